"""What runs a training group in a Ray actor (the actor's class, before ``ray.remote``).

:class:`GroupActor` wraps a :class:`~.group_runner.GroupRunner`. Ray calls its
methods from a small pool of threads (a threaded actor), so the launcher's command,
data and report calls run side by side, as the threads of a training process do.
Reports wait in a list until the launcher fetches them with :meth:`events` (a long
poll that returns as soon as there is something). After a sync, the parameters go
to Ray's object store at once; only the newest reference per model waits, so a
launcher that falls behind gets the newest parameters, never a backlog.
"""

import pickle
import shutil
import sys
import tempfile
import threading
import time as std_time
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

from pamiq_core import time
from pamiq_core.model import TrainingModel

from . import messages
from .group_runner import GroupRunner, Payload, forward_logging, group_settings
from .ray_replicas import Replica, meeting_point

TELEMETRY_INTERVAL = 0.2
"""Seconds between telemetry reports."""

INLINE_BYTES = 64 * 1024
"""Parameters up to this size travel in the report itself, not as an object of
the store: fetching such an object would cost the launcher one more round trip."""

PartFiles = dict[str, bytes]
"""The files of one snapshot part's items, by path relative to the part."""


def boot_id() -> str:
    """Names this machine's current boot: processes that share it share a clock.

    ``time.monotonic`` and ``time.perf_counter`` count from an arbitrary point
    that only processes of the same boot share.
    """
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        import socket  # noqa: PLC0415

        return socket.gethostname()


def local_clock(mirror: time.ClockMirror, origin: str) -> time.ClockMirror:
    """``mirror``, made on the machine ``origin``, for this machine's real clocks.

    On another machine the real monotonic clocks differ; the wall clocks agree
    (NTP), so the anchors are moved by how long ago, in wall time, they were
    taken.
    """
    if origin == boot_id():
        return mirror
    anchors = mirror.anchors
    age = std_time.time() - anchors.raw_time
    return time.ClockMirror(
        anchors._replace(
            raw_perf_counter=std_time.perf_counter() - age,
            raw_monotonic=std_time.monotonic() - age,
        )
    )


class GroupActor:
    """One training group (or one replica of it) in a Ray actor."""

    def __init__(self, label: str) -> None:
        """An actor for the group ``label``; :meth:`start` gives it its payload."""
        self._label = label
        self._reports: list[object] = []
        self._updates: dict[str, messages.ParameterUpdate] = {}
        self._reported = threading.Condition()
        self._last_telemetry = 0.0
        self._runner: GroupRunner | None = None
        self._stack = ExitStack()
        self._pending: dict[int, messages.DataBatch] = {}
        self._next_batch = 0
        self._feeding = threading.Lock()
        self._origin = ""
        self._replica: Replica | None = None

    def start(
        self,
        payload: bytes,
        origin: str,
        replica: Replica | None = None,
        restore: Mapping[str, PartFiles] | None = None,
    ) -> str:
        """Unpack the group, restore its items if asked, run its start hooks.

        Args:
            payload: The pickled :class:`~.group_runner.Payload`.
            origin: The launcher's :func:`boot_id`.
            replica: This actor's place among the group's replicas, if it has any.
            restore: Per part, the files of the group's items to load first.

        Returns:
            The address of the node this actor runs on.
        """
        import ray  # noqa: PLC0415  (only actors and the Ray side import Ray)

        self._origin = origin
        unpacked: Payload = pickle.loads(payload)
        unpacked.clock = local_clock(unpacked.clock, origin)
        forward_logging(self._emit, unpacked.log_level)
        self._stack.enter_context(group_settings(unpacked))
        thread = None
        if replica is not None:
            self._replica = replica
            thread = replica.thread_factory(unpacked)
        runner = (
            GroupRunner(unpacked, self._emit)
            if thread is None
            else GroupRunner(unpacked, self._emit, thread)
        )
        self._route_syncs(unpacked)
        if restore:
            _restore(runner, restore)
        runner.prepare()
        self._runner = runner
        return str(ray.util.get_node_ip_address())  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]

    def meeting_point(self) -> tuple[str, int]:
        """Where the group's replicas meet: this node's address and a free port."""
        return meeting_point()

    def begin(self, clock: time.ClockMirror) -> None:
        """Start training, reading pamiq time as ``clock`` says."""
        runner = self._active()
        time.get_global_time_controller().follow(local_clock(clock, self._origin))
        runner.start_training()

    def pause(self, request: int) -> bool:
        """Pause for ``request``; False if a trainer failed instead (reported)."""
        runner = self._active()
        if not runner.pause(request):
            return False
        self._emit(runner.telemetry())
        return True

    def resume(self, clock: time.ClockMirror) -> None:
        """Run again, reading pamiq time as ``clock`` says."""
        self._active().resume(local_clock(clock, self._origin))

    def stop(self) -> None:
        """Stop training for good (the actor stays for a final save)."""
        runner = self._active()
        runner.stop()
        self._emit(runner.telemetry())

    def save(self, part: str, marker: int) -> PartFiles:
        """Save the group's items of ``part``; return their files.

        For ``"data"``, first wait until the data up to flush marker ``marker``
        has been fed.

        Raises:
            Exception: Why the save failed.
        """
        runner = self._active()
        directory = Path(tempfile.mkdtemp(prefix="pamiq-part-"))
        try:
            error = runner.save(directory, part, marker)
            if error is not None:
                raise error
            return {
                str(path.relative_to(directory)): path.read_bytes()
                for path in sorted(directory.rglob("*"))
                if path.is_file()
            }
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def feed(self, number: int, batch: messages.DataBatch) -> None:
        """Take data batch ``number``; batches reach the buffers in number order.

        Ray does not keep the order of calls to a threaded actor, so a batch that
        arrives early waits here for the ones before it.
        """
        runner = self._active()
        with self._feeding:
            self._pending[number] = batch
            while self._next_batch in self._pending:
                runner.feed(self._pending.pop(self._next_batch))
                self._next_batch += 1

    def events(self, timeout: float) -> list[object]:
        """What the group reported, waiting up to ``timeout`` seconds for some.

        Telemetry is added at most every ``TELEMETRY_INTERVAL`` seconds.
        """
        runner = self._runner
        deadline = std_time.monotonic() + timeout
        with self._reported:
            while not self._reports and not self._updates:
                if runner is not None:
                    runner.report_failure_once()
                    if self._reports:
                        break
                remaining = deadline - std_time.monotonic()
                if remaining <= 0:
                    break
                self._reported.wait(min(remaining, 0.05))
            taken: list[object] = [*self._reports, *self._updates.values()]
            self._reports.clear()
            self._updates.clear()
        now = std_time.monotonic()
        if runner is not None and now - self._last_telemetry >= TELEMETRY_INTERVAL:
            self._last_telemetry = now
            taken.append(runner.telemetry())
        return taken

    def exit(self) -> None:
        """Shut the group down (the launcher is leaving)."""
        if self._runner is not None:
            self._runner.close()
        self._stack.close()

    def _active(self) -> GroupRunner:
        runner = self._runner
        if runner is None:
            raise RuntimeError(f"The Ray actor {self._label} has not been started.")
        return runner

    def _emit(self, message: object) -> None:
        with self._reported:
            self._reports.append(message)
            self._reported.notify_all()

    def _route_syncs(self, payload: Payload) -> None:
        """Send each sync's parameters through the object store (newest wins)."""
        if self._replica is not None and not self._replica.syncs:
            for model in payload.models.data.values():
                model._sync_route = _no_sync  # pyright: ignore[reportPrivateUsage]
            return
        for name, model in payload.models.data.items():
            if not model.has_inference_model or model.inference_thread_only:
                continue
            model._sync_route = self._publisher(name)  # pyright: ignore[reportPrivateUsage]

    def _publisher(self, name: str) -> Any:
        import ray  # noqa: PLC0415

        def publish(model: TrainingModel[Any]) -> None:
            synced_at = std_time.time()
            export = getattr(model, "_export_parameters", None)
            parameters: Any
            if export is not None:
                parameters = export()
                nbytes = parameters.nbytes
                version = int(getattr(model, "_sync_version", 0))
            else:
                parameters = cloud_dumps(model)  # (the main script's classes too)
                nbytes = len(parameters)
                version = model.sync_stats.syncs + 1
            if nbytes <= INLINE_BYTES:  # a copy now, as training goes on after this
                ref: Any = pickle.loads(pickle.dumps(parameters))
            else:  # the one copy, into the object store
                ref = ray.put(parameters)  # pyright: ignore[reportUnknownMemberType]
            update = messages.ParameterUpdate(name, version, ref, synced_at, nbytes)
            with self._reported:
                self._updates[name] = update  # an older one not yet taken is dropped
                self._reported.notify_all()

        return publish


def cloud_dumps(value: object) -> bytes:
    """Pickle ``value`` with Ray's cloudpickle (the main script's classes by value)."""
    from ray import cloudpickle  # noqa: PLC0415

    dumped: object = cloudpickle.dumps(value)  # pyright: ignore[reportPrivateImportUsage, reportUnknownMemberType, reportUnknownVariableType]
    return bytes(cast(bytes, dumped))


def send_classes_by_value(components: Iterable[object]) -> None:
    """Pickle the classes of ``components`` by value where the cluster cannot import them.

    That is where their module was made at run time rather than imported (it has
    no spec): a notebook's or a tool's namespace. The main script's classes
    travel by value anyway. Looks at the components and their attributes.
    """
    from ray import cloudpickle  # noqa: PLC0415

    seen: set[str] = set()
    for component in components:
        values = [component, *getattr(component, "__dict__", {}).values()]
        for value in values:
            name = type(value).__module__
            module = sys.modules.get(name)
            if name in seen or name == "__main__" or module is None:
                continue
            seen.add(name)
            if getattr(module, "__spec__", True) is None:
                cloudpickle.register_pickle_by_value(module)  # pyright: ignore[reportPrivateImportUsage, reportUnknownMemberType]


def _no_sync(model: TrainingModel[Any]) -> None:
    """A replica other than the first: its syncs reach no one."""


def _restore(runner: GroupRunner, restore: Mapping[str, PartFiles]) -> None:
    """Load the group's items from the files of a snapshot's parts."""
    directory = Path(tempfile.mkdtemp(prefix="pamiq-restore-"))
    try:
        for part, files in restore.items():
            for relative, content in files.items():
                path = directory / part / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            for name, item in runner.items(part).items():
                item.load_state(directory / part / name)
        for model in runner.payload.models.data.values():
            model.sync()  # the restored parameters reach the agent
    finally:
        shutil.rmtree(directory, ignore_errors=True)
