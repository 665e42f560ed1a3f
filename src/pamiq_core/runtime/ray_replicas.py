"""Data-parallel replicas of a training group: N actors that train as one.

Each replica holds the same models and trains on its own share of the collected
data; torch's ``DistributedDataParallel`` averages the gradients (gloo on the CPU,
NCCL when the models are on a GPU). The collectives must line up: every replica
must run the same trainer at the same moment, or one waits forever in a gradient
all-reduce. So before every step the replicas agree, in one small all-reduce, on
whether the trainer may train (all of them must be able to), on the newest pause
request any of them has seen, and on whether any was told to stop; then they all do
the same. Only the first replica's syncs reach the agent.
"""

import contextlib
import datetime
import fcntl
import os
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from typing_extensions import override

from pamiq_core.thread.threads import TrainingThread
from pamiq_core.trainer import TrainersDict

COLLECTIVE_TIMEOUT = 120.0
"""Seconds a replica waits in a collective for the others before failing."""


@dataclass(frozen=True)
class Replica:
    """One replica's place in its group.

    Attributes:
        rank: Its number, 0 for the one that syncs to the agent.
        world_size: How many replicas the group has.
        address: The node address of replica 0, where the others meet.
        port: A free port there.
    """

    rank: int
    world_size: int
    address: str
    port: int

    @property
    def syncs(self) -> bool:
        """Whether this replica's syncs reach the agent."""
        return self.rank == 0

    def thread_factory(self, payload: Any) -> Callable[[TrainersDict], TrainingThread]:
        """Join the group's process group; make the thread that trains in step.

        Wraps every torch training model of ``payload`` in
        ``DistributedDataParallel`` (which also copies replica 0's parameters to
        the others).
        """
        import torch  # noqa: PLC0415
        import torch.distributed as dist  # noqa: PLC0415
        from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

        models = [
            m for m in payload.models.data.values() if hasattr(m, "_export_parameters")
        ]
        on_gpu = any(p.is_cuda for m in models for p in m.model.parameters())
        backend = "nccl" if on_gpu else "gloo"
        if backend == "gloo" and "GLOO_SOCKET_IFNAME" not in os.environ:
            interface = _interface_of(self.address)
            if interface is not None:  # gloo's own guess may be another network
                os.environ["GLOO_SOCKET_IFNAME"] = interface
        dist.init_process_group(
            backend,
            init_method=f"tcp://{self.address}:{self.port}",
            rank=self.rank,
            world_size=self.world_size,
            timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT),
        )
        for model in models:
            if any(p.requires_grad for p in model.model.parameters()):
                model._data_parallel = DistributedDataParallel(model.model)
        device = torch.device("cuda") if on_gpu else torch.device("cpu")
        return lambda trainers: ReplicaTrainingThread(trainers, device)


class ReplicaTrainingThread(TrainingThread):
    """A training thread that steps in agreement with the group's other replicas."""

    def __init__(self, trainers: TrainersDict, device: Any) -> None:
        super().__init__(trainers)
        self._device = device
        self._acknowledged = 0

    @override
    def is_running(self) -> bool:
        """Agree with the others on stopping and pausing, then do as agreed."""
        controller = self._controller
        pause, stop = self._agree(0)[1:]
        if stop:
            return False
        if pause > self._acknowledged:
            # Another replica saw this pause first; ours is on its way.
            while controller.pause_request() < pause and controller.is_active():
                controller.wait_for_command(0.01)
            self._acknowledged = pause
            self.on_paused()
            while not controller.wait_for_resume(0.01):
                pass
            if controller.is_active():
                self.on_resumed()
            return True  # agree again before the next step
        return True

    @override
    def on_tick(self) -> None:
        """Run the next trainer if every replica can train it now."""
        if self._queue is None:
            self._queue = list(self._trainers.items())
        if not self._queue:
            self._rest()
            return
        name, trainer = self._queue[self._index]
        self._index = (self._index + 1) % len(self._queue)
        previous = trainer._previous_training_time  # pyright: ignore[reportPrivateUsage]
        trainable = trainer.is_trainable()
        if self._agree(1 if trainable else 0)[0] == 1:
            self._run(name, trainer)
            self._untrained_in_a_row = 0
            self._idle_wait = self.IDLE_WAIT_MIN
            return
        # Not all can train: this one did not train either, so its check must not
        # count as a training time (it would hold back its next run).
        trainer._previous_training_time = previous  # pyright: ignore[reportPrivateUsage]
        self._untrained_in_a_row += 1
        if self._untrained_in_a_row >= len(self._queue):
            self._rest()

    def _run(self, name: str, trainer: Any) -> None:
        from pamiq_core import time  # noqa: PLC0415
        from pamiq_core.metrics import RunStats  # noqa: PLC0415

        start = time.fixed_perf_counter()
        self._running_trainer = name
        try:
            trainer._train_once()
        finally:
            self._running_trainer = None
        end = time.fixed_perf_counter()
        self.run_stats.setdefault(name, RunStats()).record(
            end - start, end, trainer.unsynced_models
        )

    def _agree(self, trainable: int) -> tuple[int, int, int]:
        """All-reduce (all trainable, newest pause request, any stop)."""
        import torch  # noqa: PLC0415
        import torch.distributed as dist  # noqa: PLC0415

        controller = self._controller
        request = controller.pause_request() if controller.is_pause() else 0
        stop = 0 if controller.is_active() else 1
        # One MIN all-reduce: the maxima travel negated.
        flags = torch.tensor([trainable, -request, -stop], dtype=torch.int64)
        if self._device.type != "cpu":
            flags = flags.to(self._device)
        dist.all_reduce(flags, op=dist.ReduceOp.MIN)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        values = [int(v) for v in flags.cpu()]
        return values[0], -values[1], -values[2]

    @override
    def on_exception(self) -> None:
        """Leave the process group, so the other replicas fail instead of waiting."""
        import torch.distributed as dist  # noqa: PLC0415

        with contextlib.suppress(Exception):
            dist.destroy_process_group()
        super().on_exception()


def replicas_for(meeting: tuple[str, int], count: int) -> Iterator[Replica]:
    """The places of ``count`` replicas that meet where replica 0 said."""
    address, port = meeting
    for rank in range(count):
        yield Replica(rank, count, address, port)


def meeting_point() -> tuple[str, int]:
    """This node's address and a free port on it (for replica 0 to host)."""
    import ray  # noqa: PLC0415

    address = str(ray.util.get_node_ip_address())  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    with socket.socket() as s:
        s.bind((address, 0))
        return address, int(s.getsockname()[1])


def _interface_of(address: str) -> str | None:
    """The name of the network interface that holds ``address`` (Linux), if any."""
    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(
                    s.fileno(), siocgifaddr, struct.pack("256s", name.encode()[:15])
                )
            except OSError:
                continue
            if socket.inet_ntoa(packed[20:24]) == address:
                return name
    return None
