"""Ray mode: each training group runs in a Ray actor (N for data-parallel replicas).

The agent side stays in this process, the Ray driver. For each group a
:class:`RayLink` owns the actor(s) and the three channels of the seam:

- **control and telemetry**: commands are actor calls, answered by their return
  values; reports wait in the actor until the link fetches them with a long poll
  (one call always outstanding per actor, returning as soon as there is news);
- **parameters**: after each sync the actor puts the parameters into Ray's object
  store and reports the reference; only the newest per model is kept, on both
  sides. A :class:`ParameterReceiver` thread fetches it and writes it into the
  agent's inference model with the O(1) hand-over of thread mode;
- **data**: a :class:`RayDataSender` thread sends collected items in numbered
  batches, at most ``max_batches_in_flight`` per actor not yet received; beyond
  that items wait, and the oldest are dropped and counted.

Snapshots are written here: the actors return their parts' files, which are
written into the snapshot directory being prepared.
"""

import contextlib
import logging
import pickle
import threading
import time as std_time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataCollector, DataUsersDict
from pamiq_core.metrics import GroupSummary
from pamiq_core.model import TrainingModelsDict
from pamiq_core.state_persistence import find_latest_state, read_manifest
from pamiq_core.tracking import SystemTracking
from pamiq_core.trainer import TrainersDict

from . import messages
from .group_runner import Payload
from .ray_actor import (
    GroupActor,
    PartFiles,
    boot_id,
    cloud_dumps,
    send_classes_by_value,
)
from .ray_config import RayConfig, RayGroup
from .ray_replicas import Replica, replicas_for
from .remote_side import RemoteTrainingSide, Reports
from .seam import TRAINING_PARTS, TrainingGroup

logger = logging.getLogger(__name__)

START_TIMEOUT = 300.0
"""Seconds an actor may take to start (scheduling, imports, unpacking)."""

EVENTS_WAIT = 0.2
"""Seconds one long poll for reports waits at most."""

SEND_INTERVAL = 0.002
"""Seconds between two looks at the collectors for data to send."""

ACTOR_CONCURRENCY = 4
"""Threads of an actor besides the data calls: reports, commands, saves."""


class TrainingActorError(RuntimeError):
    """A Ray actor of a training group died, was lost with its node, or never started."""


def import_ray() -> Any:
    """Ray, or an error that says how to install it."""
    try:
        import ray  # noqa: PLC0415
    except ImportError as error:
        raise ImportError(
            "training='ray' needs Ray: install the ray extra, "
            "pip install 'pamiq-core[ray]'."
        ) from error
    return ray


class RayTrainingSide(RemoteTrainingSide):
    """The training side as Ray actors, one per training group (or per replica)."""

    MODE = "ray"
    WHERE = "the Ray actor"
    ERROR = TrainingActorError

    def __init__(
        self,
        trainers: TrainersDict,
        models: TrainingModelsDict,
        data_users: DataUsersDict,
        buffers: Mapping[str, DataBuffer[Any, Any]],
        groups: Sequence[Sequence[str]] | None,
        settings: Mapping[str, Any],
        tracking: SystemTracking,
        config: RayConfig,
    ) -> None:
        """Plan the groups and prepare a link for each; nothing starts yet.

        Args: as :class:`~.remote_side.RemoteTrainingSide`, and ``config``, the
            cluster and the groups' placement. ``settings`` also holds
            ``states_dir``, where a restarted group finds its newest snapshot.

        Raises:
            ImportError: If Ray is not installed.
            ValueError: If the groups are not a valid split of the trainers, or
                ``config.groups`` has more entries than there are groups.
        """
        self._ray = import_ray()
        self._config = config
        self._states_dir = Path(settings.get("states_dir", "."))
        self._started_at = std_time.time()
        self._initialized_here = False
        super().__init__(
            trainers, models, data_users, buffers, groups, settings, tracking
        )
        if len(config.groups) > len(self._groups):
            raise ValueError(
                f"RayConfig.groups has {len(config.groups)} entries but there are "
                f"{len(self._groups)} training groups; give one RayGroup per group "
                "of training_groups."
            )

    @override
    def _make_link(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        reports: Reports,
    ) -> "RayLink":
        return RayLink(
            group,
            collectors,
            reports,
            self._config.group(group.index),
            self._config,
            self._restore_files,
            self.dumps,
        )

    @override
    def dumps(self, value: object) -> bytes:
        """Ray's cloudpickle: classes the cluster cannot import travel by value."""
        return cloud_dumps(value)

    @override
    def _payload(self, group: TrainingGroup) -> Payload:
        payload = super()._payload(group)
        send_classes_by_value(
            [
                *payload.trainers.values(),
                *payload.models.data.values(),
                *(user.buffer for user in payload.data_users.values()),
            ]
        )
        return payload

    @override
    def _own_path_models(self, group: TrainingGroup) -> dict[str, int]:
        return {
            name: 0
            for name in group.models
            if hasattr(self._models.data[name], "_export_parameters")
        }

    def group_summaries(self) -> dict[str, GroupSummary]:
        """Per group, whether it runs, where, and what crossed to it."""
        return {
            link.group.label: link.summary()
            for link in self._links
            if isinstance(link, RayLink)
        }

    @override
    def start(self) -> None:
        """Connect to the cluster (or start a local one), then start every group."""
        ray = self._ray
        if not ray.is_initialized():
            options = {"log_to_driver": True, **self._config.init_options}
            ray.init(address=self._config.address, **options)
            self._initialized_here = True
        self._started_at = std_time.time()
        try:
            super().start()
        except BaseException:
            self._shutdown_ray()
            raise

    @override
    def close(self, timeout: float) -> None:
        try:
            super().close(timeout)
        finally:
            self._shutdown_ray()

    def _shutdown_ray(self) -> None:
        if self._initialized_here:
            self._initialized_here = False
            self._ray.shutdown()

    def _restore_files(self, group: TrainingGroup) -> dict[str, PartFiles]:
        """The group's items in the newest snapshot of this run that has them.

        Empty if this run saved none yet (the group then restarts from the state
        the system was launched with).
        """
        snapshot = find_latest_state(self._states_dir)
        if snapshot is None:
            return {}
        manifest = read_manifest(snapshot) or {}
        if float(manifest.get("saved_at", 0.0)) < self._started_at:
            return {}
        logger.info(f"Restarting {group.label} from the snapshot '{snapshot}'.")
        names = {
            "models": group.models,
            "data": group.buffers,
            "trainers": group.trainers,
        }
        return {
            part: _files_of(snapshot / part, names[part]) for part in TRAINING_PARTS
        }


def _files_of(directory: Path, names: Sequence[str]) -> PartFiles:
    """The files that the items ``names`` saved in ``directory`` (a part)."""
    files: PartFiles = {}
    for entry in sorted(directory.iterdir()):
        if not any(entry.name == n or entry.name.startswith(f"{n}.") for n in names):
            continue
        paths = sorted(entry.rglob("*")) if entry.is_dir() else [entry]
        for path in paths:
            if path.is_file():
                files[str(path.relative_to(directory))] = path.read_bytes()
    return files


class RayLink:
    """One training group on the Ray cluster, seen from the launcher.

    Threads: the group's proxy thread and the control thread (saves) call it,
    one at a time under the link's lock; the data sender and the parameter
    receiver are threads of their own. The actor handles are replaced only under
    the lock, by a restart.
    """

    def __init__(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        reports: Reports,
        settings: RayGroup,
        config: RayConfig,
        restore_files: Callable[[TrainingGroup], dict[str, PartFiles]],
        dumps: Callable[[object], bytes],
    ) -> None:
        """Prepare the link; no actor starts before :meth:`start`."""
        self._ray = import_ray()
        self._dumps = dumps
        self.group = group
        self._reports = reports
        self._settings = settings
        self._config = config
        self._restore_files = restore_files
        self._lock = threading.RLock()
        self._actors: list[Any] = []
        self._events: list[Any] = []
        self._payload = b""
        self._paused = False
        self._stopped = False
        self._closing = False
        self._down: str | None = None
        self._restarting: _Restart | None = None
        self._death: TrainingActorError | None = None
        self._starting: list[Any] = []
        self.ready = False
        """Whether the group got its payload and trains."""
        self.restarts = 0
        self.nodes: list[str] = []
        options = {"num_cpus": 1, **settings.options}
        remote = self._ray.remote(GroupActor)
        try:
            self._actor_class = remote.options(
                max_concurrency=ACTOR_CONCURRENCY + config.max_batches_in_flight,
                name=None,
                **options,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"The Ray options of {group.label} (RayConfig.groups[{group.index}]"
                f".options) are not valid actor options: {error}"
            ) from error
        self.sender = RayDataSender(
            group, collectors, settings.replicas, config.max_batches_in_flight
        )
        self.receiver = ParameterReceiver(group, reports)

    # ---- GroupLink ----------------------------------------------------------

    @property
    def failure(self) -> BaseException | None:
        """Why the group failed, once it did."""
        return self._reports.failure

    @property
    def alive(self) -> bool:
        """Whether the group's actors run (a group being restarted does not)."""
        return bool(self._actors) and self._down is None and self._death is None

    def start(self, payload: Payload) -> None:
        """Pickle the payload and create the actor(s); do not wait for them."""
        self._payload = self._dumps(payload)
        self._starting = self._create_actors()

    def await_ready(self, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Send the actors the payload, wait until they are ready, start training.

        Returns:
            True if the group trains, False if ``cancelled()`` ended the wait.

        Raises:
            Exception: What an actor met while starting, as raised there.
            TrainingActorError: If an actor died, or did not start in time.
        """
        actors, self._starting = self._starting, []
        nodes = self._boot(actors, None, None, cancelled)
        if nodes is None:
            return False
        with self._lock:
            self._adopt(actors, nodes)
            self._call_all("begin", time.get_global_time_controller().mirror())
            self.ready = True
        self.sender.start()
        self.receiver.start()
        return True

    def pump(self, timeout: float) -> None:
        """Handle the reports that arrive within ``timeout`` seconds.

        Raises:
            BaseException: The group's failure, once it failed (and is not
                being restarted).
        """
        with self._lock:
            self._receive(timeout)
            self._finish_restart()
            if self.receiver.error is not None:
                self._reports.died(self.receiver.error)
        failure = self.failure
        if failure is not None:
            raise failure

    def pause(self, request: int) -> None:
        """Pause every actor for ``request``; at once if the group is down."""
        with self._lock:
            self._paused = True
            if not self.alive:
                return
            acknowledged = self._call_all("pause", request)
            if not all(acknowledged):  # a trainer failed: its report is coming
                deadline = std_time.monotonic() + 30.0
                while self.failure is None and std_time.monotonic() < deadline:
                    self._receive(0.05)
                raise self.failure or TrainingActorError(
                    f"{self.group.label} did not pause and reported no error."
                )

    def resume(self, clock: time.ClockMirror) -> None:
        """Resume every actor (or start the restarted ones)."""
        with self._lock:
            self._paused = False
            if self.alive:
                self._call_all("resume", clock)
            else:
                self._finish_restart()

    def stop(self) -> None:
        """Stop training in every actor (they stay for the final save)."""
        with self._lock:
            self._stopped = True
            self._cancel_restart()
            if self.alive:
                self._call_all("stop")

    def save_part(self, path: Path, part: str, timeout: float) -> None:
        """Write the files of the group's items of ``part`` into ``path``.

        The first replica's items stand for the group: the replicas hold the
        same models and trainers, and the snapshot keeps the first replica's
        share of the data (the others' shares are not saved).

        Raises:
            TrainingActorError: If the group is down (restarting) or died.
            Exception: Why the save failed in the actor.
        """
        with self._lock:
            if not self.alive:
                raise TrainingActorError(
                    f"{self.group.label} cannot save its part '{part}': "
                    f"{self._down or self._death}"
                )
            marker = self.sender.flush(timeout) if part == "data" else 0
            answers = self._call(
                self._actors[:1], "save", part, marker, timeout=timeout
            )
        for files in answers:
            for relative, content in files.items():
                target = path / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)

    def describe_activity(self) -> str:
        """What the proxy thread waits for."""
        if self._down is not None:
            return f"waiting for its Ray actor to restart ({self._down})"
        return f"waiting for its Ray actor on {', '.join(self.nodes) or 'the cluster'}"

    def close(self, timeout: float) -> None:
        """Stop the data and parameter threads, end the actors (killing if need be)."""
        self._closing = True
        self.sender.close()
        self.receiver.close()
        acquired = self._lock.acquire(timeout=1.0)
        try:
            self._cancel_restart()
            actors, self._actors = [*self._actors, *self._starting], []
            self._starting = []
        finally:
            if acquired:
                self._lock.release()
        exits: list[Any] = []
        for actor in actors:
            with contextlib.suppress(Exception):
                exits.append(actor.exit.remote())
        if exits:
            with contextlib.suppress(Exception):
                self._ray.wait(exits, num_returns=len(exits), timeout=min(timeout, 5.0))
        for actor in actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)

    def summary(self) -> GroupSummary:
        """Whether the group runs, where, and what crossed to it."""
        if self._death is not None or (self.failure is not None and self._down is None):
            status = "failed"
        elif self._down is not None:
            status = "down"
        elif not self._actors:
            status = "starting"
        else:
            status = "running"
        return {
            "status": status,
            "where": ", ".join(self.nodes) or None,
            "down_reason": self._down,
            "restarts": self.restarts,
            "replicas": self._settings.replicas,
            "items_sent": self.sender.items_sent,
            "items_dropped": sum(self.sender.dropped.values()),
            "parameter_updates": self.receiver.updates,
            "parameter_bytes": self.receiver.bytes,
            "last_parameter_delay": self.receiver.last_delay,
        }

    # ---- actors ---------------------------------------------------------------

    def _create_actors(self) -> list[Any]:
        """Ask Ray for the group's actors (they start when scheduled)."""
        count = self._settings.replicas
        return [self._actor_class.remote(self.group.label) for _ in range(count)]

    def _boot(
        self,
        actors: list[Any],
        restore: Mapping[str, PartFiles] | None,
        clock: time.ClockMirror | None,
        cancelled: Callable[[], bool],
    ) -> list[str] | None:
        """Start ``actors`` with the payload (and ``restore``, ``clock``).

        Returns:
            The nodes they run on; None if ``cancelled()`` ended the wait (the
            actors are killed).

        Raises:
            Exception: What an actor met while starting (the actors are killed).
        """
        ray = self._ray
        try:
            replicas: list[Replica | None] = [None]
            if len(actors) > 1:
                meeting = actors[0].meeting_point.remote()
                if not self._wait(
                    [meeting], cancelled, self._restarting is None, "be scheduled"
                ):
                    raise _CancelledError
                replicas = list(replicas_for(ray.get(meeting), len(actors)))
            payload = self._payload
            if clock is not None:
                unpacked: Payload = pickle.loads(payload)
                unpacked.clock = clock
                payload = self._dumps(unpacked)
            refs = [
                actor.start.remote(payload, boot_id(), replica, restore)
                for actor, replica in zip(actors, replicas, strict=True)
            ]
            if not self._wait(refs, cancelled, self._restarting is None, "start"):
                raise _CancelledError
            try:
                return list(ray.get(refs))
            except ray.exceptions.RayActorError as error:
                raise TrainingActorError(
                    f"The Ray actor of {self.group.label} died while starting: "
                    f"{_cause(error)}"
                ) from error
            except ray.exceptions.RayTaskError as error:
                raise _original(error) from None
        except BaseException as error:
            for actor in actors:
                with contextlib.suppress(Exception):
                    ray.kill(actor, no_restart=True)
            if isinstance(error, _CancelledError):
                return None
            raise

    def _wait(
        self, refs: list[Any], cancelled: Callable[[], bool], limited: bool, what: str
    ) -> bool:
        """Wait for ``refs``; False if cancelled or closing.

        Raises:
            TrainingActorError: If ``limited`` and they take over START_TIMEOUT.
        """
        ray = self._ray
        deadline = std_time.monotonic() + START_TIMEOUT
        while True:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.1)
            if len(ready) == len(refs):
                return True
            if self._closing or cancelled():
                return False
            if limited and std_time.monotonic() > deadline:
                raise TrainingActorError(
                    f"The Ray actor of {self.group.label} did not {what} within "
                    f"{START_TIMEOUT} s; does the cluster have the resources it "
                    f"asks for ({dict(self._settings.options) or 'one CPU'})?"
                )

    def _adopt(self, actors: list[Any], nodes: list[str]) -> None:
        """Make ``actors`` the group's (under the lock) and poll their reports."""
        self._actors = actors
        self.nodes = sorted(set(nodes))
        self._events = [actor.events.remote(EVENTS_WAIT) for actor in actors]
        self.sender.target([actor.feed for actor in actors])

    def _call_all(self, method: str, *args: Any) -> list[Any]:
        return self._call(self._actors, method, *args, timeout=None)

    def _call(
        self, actors: list[Any], method: str, *args: Any, timeout: float | None
    ) -> list[Any]:
        """Call ``method`` on ``actors`` and return their answers, handling reports.

        Raises:
            TrainingActorError: If an actor died (or the group was lost) first.
            TimeoutError: If no answer came within ``timeout`` seconds.
            Exception: What the method raised in the actor.
        """
        ray = self._ray
        refs = [getattr(actor, method).remote(*args) for actor in actors]
        deadline = None if timeout is None else std_time.monotonic() + timeout
        while True:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0.02)
            if len(ready) == len(refs):
                break
            self._receive(0.0)
            if self._death is not None or self._down is not None:
                raise self._death or TrainingActorError(self._down)
            if deadline is not None and std_time.monotonic() > deadline:
                raise TimeoutError(
                    f"The Ray actor of {self.group.label} did not answer "
                    f"{method}() within {timeout} seconds."
                )
        try:
            return list(ray.get(refs))
        except ray.exceptions.RayActorError as error:
            self._died(error)
            raise self._death or TrainingActorError(self._down) from error
        except ray.exceptions.RayTaskError as error:
            raise _original(error) from None

    def _receive(self, timeout: float) -> None:
        """Handle the reports that arrive within ``timeout``; notice a death."""
        ray = self._ray
        pending = [ref for ref in self._events if ref is not None]
        if not pending:
            return
        ready, _ = ray.wait(pending, num_returns=1, timeout=timeout)
        if not ready:
            return
        ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
        for index, ref in enumerate(self._events):
            if ref is None or ref not in ready:
                continue
            try:
                received: list[object] = ray.get(ref)
            except ray.exceptions.RayActorError as error:
                self._events[index] = None
                self._died(error)
                return
            self._events[index] = self._actors[index].events.remote(EVENTS_WAIT)
            updates = [m for m in received if isinstance(m, messages.ParameterUpdate)]
            for update in updates:
                self.receiver.offer(update)
            self._reports.handle(
                m for m in received if not isinstance(m, messages.ParameterUpdate)
            )

    def _died(self, error: BaseException) -> None:
        """An actor is gone: restart the group, or make its death the failure."""
        if self._down is not None or self._death is not None:
            return
        cause = _cause(error)
        death = TrainingActorError(
            f"The Ray actor of {self.group.label} (trainers "
            f"{list(self.group.trainers)}, on {', '.join(self.nodes) or 'the cluster'}) "
            f"died: {cause}"
        )
        restartable = (
            self._config.on_failure == "restart"
            and self.failure is None  # a trainer's own error stops the system
            and self.restarts < self._config.max_restarts
            and not self._stopped
            and not self._closing
        )
        if not restartable:
            self._death = death
            self._reports.died(death)
            return
        logger.warning(f"{death} Restarting it; the agent keeps its last parameters.")
        self._down = cause
        self.restarts += 1
        old, self._actors = self._actors, []
        self._events = []
        self.sender.target([])
        for actor in old:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        self._restarting = _Restart(self)

    def _finish_restart(self) -> None:
        """Adopt the restarted actors once they are ready and the system runs."""
        restart = self._restarting
        if restart is None or not restart.done.is_set() or self._paused:
            return
        self._restarting = None
        if restart.error is not None:
            death = TrainingActorError(
                f"{self.group.label} could not be restarted: {restart.error!r}"
            )
            death.__cause__ = restart.error
            self._death = death
            self._reports.died(death)
            return
        actors, nodes = restart.result
        self._adopt(actors, nodes)
        self._down = None
        try:
            self._call_all("begin", time.get_global_time_controller().mirror())
        except Exception:  # (died again: _died has restarted it or failed)
            return
        logger.info(f"{self.group.label} is back, on {', '.join(self.nodes)}.")

    def _cancel_restart(self) -> None:
        restart, self._restarting = self._restarting, None
        if restart is not None:
            restart.cancel()


class _CancelledError(Exception):
    """Ends a wait for actors that was cancelled."""


class _Restart(threading.Thread):
    """Starts a group's actors again from its newest snapshot, in the background.

    The new actors may wait for resources (a lost node that comes back).
    """

    def __init__(self, link: RayLink) -> None:
        super().__init__(name=f"pamiq-restart-{link.group.label}", daemon=True)
        self._link = link
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.result: tuple[list[Any], list[str]] = ([], [])
        self._cancelled = False
        self.start()

    def run(self) -> None:
        link = self._link
        try:
            restore = link._restore_files(link.group)  # pyright: ignore[reportPrivateUsage]
            clock = time.get_global_time_controller().mirror()
            actors = link._create_actors()  # pyright: ignore[reportPrivateUsage]
            nodes = link._boot(actors, restore, clock, lambda: self._cancelled)  # pyright: ignore[reportPrivateUsage]
            if nodes is None:
                raise TrainingActorError(f"{link.group.label}: restart cancelled.")
            self.result = (actors, nodes)
        except BaseException as error:
            self.error = error
        finally:
            self.done.set()

    def cancel(self) -> None:
        self._cancelled = True


def _cause(error: BaseException) -> str:
    """The gist of a Ray error: why the actor died, without ids and stacks."""
    ids = ("class_name:", "actor_id:", "pid:", "name:", "namespace:", "ip:")
    lines = [line.strip() for line in str(error).strip().splitlines()]
    kept = [line for line in lines if line and not line.startswith(ids)]
    return " ".join(kept[:3])[:800]


def _original(error: Any) -> BaseException:
    """The exception an actor method raised, with its remote traceback as a note."""
    cause = error.cause if getattr(error, "cause", None) is not None else error
    if cause is not error:
        cause.add_note(f"Raised in a Ray actor:\n{str(error).strip()}")
    return cause


class ParameterReceiver(threading.Thread):
    """Writes the newest parameters of each model into the agent's inference model.

    The link offers each reported update; an update not yet fetched is replaced
    by a newer one of the same model (newest wins). This thread fetches the
    parameters from the object store and hands them to the model: a torch model
    writes them into its back module and swaps (O(1) for the agent); another
    model is unpickled and synced as in this process.
    """

    def __init__(self, group: TrainingGroup, reports: Reports) -> None:
        super().__init__(name=f"pamiq-parameters-{group.label}", daemon=True)
        self._ray = import_ray()
        self._models = reports.models
        self._reports = reports
        self._newest: dict[str, messages.ParameterUpdate] = {}
        self._changed = threading.Condition()
        self._closed = False
        self.updates = 0
        """Updates applied (written by this thread)."""
        self.bytes = 0
        """Bytes of the updates applied."""
        self.last_delay: float | None = None
        """Seconds from the sync to the hand-over, for the latest update."""
        self.delays: deque[float] = deque(maxlen=1000)
        """The recent delays, for benchmarks."""
        self.error: BaseException | None = None
        """Why an update could not be handed over (the link raises it)."""

    def offer(self, update: messages.ParameterUpdate) -> None:
        """Queue ``update``, replacing an older one of the same model."""
        with self._changed:
            self._newest[update.name] = update
            self._changed.notify()

    def run(self) -> None:
        """Hand over the newest parameters as they come, until closed."""
        while True:
            with self._changed:
                while not self._newest and not self._closed:
                    self._changed.wait(0.5)
                if self._closed:
                    return
                taken = list(self._newest.values())
                self._newest.clear()
            for update in taken:
                self._apply(update)

    def _apply(self, update: messages.ParameterUpdate) -> None:
        ray = self._ray
        parameters = update.ref
        if isinstance(parameters, ray.ObjectRef):
            try:
                parameters = ray.get(parameters)
            except ray.exceptions.RayError:
                return  # its actor is gone: the link reports that
        model = self._models[update.name]
        try:
            if isinstance(parameters, bytes):
                incoming = pickle.loads(parameters)
                incoming.sync_impl(model.inference_model)
            else:
                model._import_parameters(parameters, update.version)  # type: ignore[attr-defined]
        except Exception as error:
            error.add_note(
                f"Raised while handing the parameters of '{update.name}' from "
                f"{self._reports.group.label} to the agent."
            )
            if self.error is None:
                self.error = error
            return
        delay = std_time.time() - update.synced_at
        self.last_delay = delay
        self.delays.append(delay)
        self.bytes += update.nbytes
        self.updates += 1

    def close(self) -> None:
        """Stop (an update being written is finished first)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self.is_alive():
            self.join(5.0)


class RayDataSender(threading.Thread):
    """Sends what the agent collects for a group's buffers to its actor(s).

    Every couple of milliseconds it takes everything the collectors hold (an O(1)
    swap under each collector's lock) into its own queue per buffer, bounded like
    the collector's: when full, the oldest items are dropped and counted. It sends
    the queues as one numbered batch whenever the actor has fewer than
    ``max_in_flight`` batches not yet received. With replicas, the items of each
    buffer are dealt out in turn, so each replica gets a disjoint share.
    """

    def __init__(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        replicas: int,
        max_in_flight: int,
    ) -> None:
        super().__init__(name=f"pamiq-data-{group.label}", daemon=True)
        self._ray = import_ray()
        self._label = group.label
        self._collectors = {n: collectors[n] for n in group.buffers}
        self._bounds = {
            n: c._max_queue_size  # pyright: ignore[reportPrivateUsage]
            for n, c in self._collectors.items()
        }
        self._replicas = replicas
        self._max_in_flight = max_in_flight
        self._queues: dict[str, tuple[deque[Any], deque[float]]] = {
            n: (deque(maxlen=b), deque(maxlen=b)) for n, b in self._bounds.items()
        }
        self._turns = dict.fromkeys(self._collectors, 0)
        self._feeds: list[Any] = []
        self._in_flight: list[list[Any]] = []
        self._numbers: list[int] = []
        self._wake = threading.Event()
        self._sent = threading.Condition()
        self._requested_marker = 0
        self._sent_marker = 0
        self._closed = False
        self.items_sent = 0
        """Items sent so far (written by this thread)."""
        self.dropped: dict[str, int] = dict.fromkeys(self._collectors, 0)
        """Per buffer, items dropped because the actor fell behind."""

    def target(self, feeds: list[Any]) -> None:
        """Send to these actors' ``feed`` methods from now on (after a restart)."""
        with self._sent:
            self._feeds = feeds
            self._in_flight = [[] for _ in feeds]
            self._numbers = [0 for _ in feeds]

    def run(self) -> None:
        """Take and send what was collected every couple of milliseconds."""
        while not self._closed:
            self._wake.wait(SEND_INTERVAL)
            self._wake.clear()
            self._take()
            with self._sent:
                marker = self._requested_marker
                try:
                    sent = self._send(marker)
                except Exception:  # Ray itself is gone (shut down under us)
                    logger.exception(f"Sending data to {self._label} failed.")
                    self._feeds = []
                    self._sent.notify_all()
                    return
                if sent:
                    self._sent_marker = marker
                    self._sent.notify_all()

    def _take(self) -> None:
        for name, collector in self._collectors.items():
            pending = collector._move_data()  # pyright: ignore[reportPrivateUsage]
            if not len(pending):
                continue
            items, timestamps = pending._items_and_timestamps()  # pyright: ignore[reportPrivateUsage]
            queue_items, queue_times = self._queues[name]
            bound = self._bounds[name]
            if bound is not None:
                overflow = len(queue_items) + len(items) - bound
                if overflow > 0:
                    self.dropped[name] += overflow
            queue_items.extend(items)
            queue_times.extend(timestamps)

    def _send(self, marker: int) -> bool:
        """Send the queued items (and ``marker``) if every actor can take a batch.

        Returns:
            Whether everything queued, and the marker, went out.
        """
        feeds = self._feeds
        if not feeds:
            return False
        ray = self._ray
        for index, refs in enumerate(self._in_flight):
            if refs:
                _, self._in_flight[index] = ray.wait(
                    refs, num_returns=len(refs), timeout=0
                )
        if any(len(refs) >= self._max_in_flight for refs in self._in_flight):
            return False
        if marker <= self._sent_marker and not any(q for q, _ in self._queues.values()):
            return True
        shares = self._deal()
        for index, feed in enumerate(feeds):
            batch = messages.DataBatch(shares[index], marker)
            self._in_flight[index].append(feed.remote(self._numbers[index], batch))
            self._numbers[index] += 1
        return True

    def _deal(self) -> list[dict[str, tuple[list[Any], list[float]]]]:
        """Empty the queues into one share per actor, items dealt out in turn."""
        count = len(self._feeds)
        shares: list[dict[str, tuple[list[Any], list[float]]]] = [
            {} for _ in range(count)
        ]
        for name, (items, timestamps) in self._queues.items():
            if not items:
                continue
            taken, stamps = list(items), list(timestamps)
            items.clear()
            timestamps.clear()
            self.items_sent += len(taken)
            if count == 1:
                shares[0][name] = (taken, stamps)
                continue
            turn = self._turns[name]
            for index in range(count):
                first = (index - turn) % count
                shares[index][name] = (taken[first::count], stamps[first::count])
            self._turns[name] = (turn + len(taken)) % count
        return shares

    def flush(self, timeout: float) -> int:
        """Send everything collected so far; return the marker that follows it.

        Raises:
            TimeoutError: If it could not be sent within ``timeout`` seconds.
        """
        with self._sent:
            self._requested_marker += 1
            marker = self._requested_marker
            self._wake.set()
            if not self._sent.wait_for(
                lambda: self._sent_marker >= marker or not self._feeds, timeout
            ):
                raise TimeoutError(
                    "The collected data could not be sent to the Ray actor in time."
                )
            if self._sent_marker < marker:
                raise TrainingActorError("The Ray actor is gone; data cannot be sent.")
        return marker

    def close(self) -> None:
        """Stop sending."""
        self._closed = True
        self._wake.set()
        if self.is_alive():
            self.join(5.0)
