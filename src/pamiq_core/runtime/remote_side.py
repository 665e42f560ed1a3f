"""The launcher's side of training groups that run elsewhere (processes, Ray actors).

What every such transport shares lives here: the proxy thread that stands in for a
group's training thread (:class:`GroupProxyThread`), the snapshot parts split
between this process and the groups (:class:`SplitPart`), the handling of what a
group reports (:class:`Reports`), the payload each group gets with its
picklability checks, and :class:`RemoteTrainingSide`, the training side built from
one :class:`GroupLink` per group. A transport supplies the links.
"""

import logging
import pickle
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataCollector, DataUsersDict
from pamiq_core.metrics import RunStats
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import BackgroundThread
from pamiq_core.tracking import SystemTracking
from pamiq_core.trainer import Trainer, TrainersDict

from . import messages
from .group_runner import Payload, group_seed
from .seam import TRAINING_PARTS, TrainingGroup, TrainingSide, plan_groups, save_items

logger = logging.getLogger(__name__)

SAVE_TIMEOUT = 600.0
"""Seconds a group may take to save its part of a snapshot."""

OnRecords = Callable[[list[Any]], object]
"""Takes the scalars a group's components logged."""


class GroupLink(Protocol):
    """One training group running elsewhere, seen from the launcher.

    Every method that waits also handles what the group reports meanwhile, and
    raises the group's failure once it failed.
    """

    group: TrainingGroup

    @property
    def failure(self) -> BaseException | None:
        """Why the group failed, once it did."""
        ...

    @property
    def alive(self) -> bool:
        """Whether the group's training side runs (and can save)."""
        ...

    @property
    def ready(self) -> bool:
        """Whether the group got its payload and trains (see :meth:`await_ready`)."""
        ...

    def start(self, payload: Payload) -> None:
        """Start the group with ``payload``; do not wait for it."""
        ...

    def await_ready(self, cancelled: Callable[[], bool]) -> bool:
        """Wait until the group trains; False if ``cancelled()`` ended the wait."""
        ...

    def pump(self, timeout: float) -> None:
        """Handle what the group reports within ``timeout`` seconds."""
        ...

    def pause(self, request: int) -> None:
        """Pause the group for pause request ``request``; return once it has."""
        ...

    def resume(self, clock: time.ClockMirror) -> None:
        """Let the group run again, reading pamiq time as ``clock`` says."""
        ...

    def stop(self) -> None:
        """Stop training for good (the group stays to answer a final save)."""
        ...

    def save_part(self, path: Path, part: str, timeout: float) -> None:
        """Save the group's items of ``part`` into the existing directory ``path``."""
        ...

    def describe_activity(self) -> str:
        """What the proxy waits for, in a few words, for error messages."""
        ...

    def close(self, timeout: float) -> None:
        """Release the group's training side within ``timeout`` seconds."""
        ...


class GroupProxyThread(BackgroundThread):
    """Stands in for a training group's thread, which runs elsewhere.

    It reports paused only after the group acknowledged the same pause request,
    and ends only after the group stopped training. Between commands it handles
    what the group reports, and dies with the group's error if it fails.
    """

    THREAD_TYPE = ThreadTypes.TRAINING

    def __init__(self, link: GroupLink) -> None:
        """Steer the group behind ``link``."""
        self._link = link  # before the base class names the thread after it
        super().__init__()

    @property
    @override
    def thread_name(self) -> str:
        """``training[<trainer>, ...]``."""
        return self._link.group.label

    @override
    def is_running(self) -> bool:
        """Carry a pause to the group and keep listening to it while paused."""
        controller = self._controller
        if controller.is_pause():
            self.on_paused()
            while not controller.wait_for_resume(0.01):
                self._link.pump(0.0)
            if controller.is_active():
                self.on_resumed()
        return controller.is_active()

    @override
    def on_start(self) -> None:
        """Wait until the group has started (the agent acts meanwhile)."""
        super().on_start()
        if self._link.await_ready(self._controller.is_shutdown):
            logger.info(f"{self._link.group.label} is ready.")

    @override
    def on_tick(self) -> None:
        self._link.pump(0.01)

    @override
    def on_paused(self) -> None:
        """Pause the group, then report paused for the same request."""
        self._link.pause(self._controller.pause_request())
        super().on_paused()

    @override
    def on_resumed(self) -> None:
        """Resume the group from this process's pamiq clock."""
        self._link.resume(time.get_global_time_controller().mirror())
        super().on_resumed()

    @override
    def on_finally(self) -> None:
        """Stop the group's training (it stays for the final save)."""
        if self._link.alive and self._link.ready:
            self._link.stop()
        super().on_finally()

    @override
    def describe_activity(self) -> str:
        return self._link.describe_activity()


class Reports:
    """Applies what a group reports to the launcher's side of the system.

    Telemetry updates the run stats, the models' sync stats and the buffer
    lengths shown in the metrics; log records go to this process's logging;
    logged scalars to the system's tracking; pickled parameter updates (newest
    per model wins) to the agent's inference models; a failure is kept, with the
    group's traceback as a note. Used by one thread at a time (the link's owner).
    """

    def __init__(
        self,
        group: TrainingGroup,
        models: Mapping[str, TrainingModel[Any]],
        run_stats: Mapping[str, RunStats],
        buffer_lengths: dict[str, int],
        on_records: OnRecords,
        where: str,
        error_type: type[Exception] = RuntimeError,
    ) -> None:
        """Apply the reports of ``group``.

        Args:
            group: The group.
            models: The group's training models as the agent's side holds them.
            run_stats: Per trainer, the stats to update from telemetry.
            buffer_lengths: Per buffer, the length to update from telemetry.
            on_records: Takes the scalars the group's components logged.
            where: Where the group runs, as errors name it ("the training
                process", "the Ray actor").
            error_type: The error of a failure that has no exception of its
                own (one that could not be pickled).
        """
        self.group = group
        self.models = dict(models)
        self._run_stats = run_stats
        self._buffer_lengths = buffer_lengths
        self._on_records = on_records
        self.where = where
        self._error_type = error_type
        self.failure: BaseException | None = None

    def handle(self, received: Iterable[object]) -> list[object]:
        """Apply ``received``; return the messages that are answers to commands."""
        answers: list[object] = []
        newest_updates: dict[str, messages.ModelUpdate] = {}
        for message in received:
            match message:
                case messages.Telemetry():
                    self.apply_telemetry(message)
                case messages.LogRecord(record=record):
                    logging.getLogger(record.name).handle(record)
                case messages.TrackingRecords(records=records):
                    self._on_records(records)
                case messages.ModelUpdate(name=name):
                    newest_updates[name] = message  # newest wins
                case messages.Failed():
                    self.failed(message)
                case _:
                    answers.append(message)
        for update in newest_updates.values():
            incoming: TrainingModel[Any] = pickle.loads(update.payload)
            incoming.sync_impl(self.models[update.name].inference_model)
        return answers

    def apply_telemetry(self, telemetry: messages.Telemetry) -> None:
        """Update the launcher's copies of the group's measurements."""
        for name, fields in telemetry.runs.items():
            run_stats = self._run_stats.get(name)
            if run_stats is not None:
                vars(run_stats).update(fields)
        for name, fields in telemetry.syncs.items():
            model = self.models.get(name)
            if model is not None:
                vars(model.sync_stats).update(fields)
        self._buffer_lengths.update(telemetry.buffers)

    def failed(self, failure: messages.Failed) -> None:
        """Keep the group's failure (the first one), its traceback as a note."""
        error = failure.error
        if error is None:
            error = self._error_type(
                f"{self.where[0].upper()}{self.where[1:]} {self.group.label} failed: "
                f"{failure.description}"
            )
        error.add_note(
            f"Raised in {self.where} {self.group.label} (trainers "
            f"{list(self.group.trainers)}):\n{failure.traceback.rstrip()}"
        )
        if self.failure is None:
            self.failure = error

    def died(self, death: BaseException) -> None:
        """Keep ``death`` as the failure, unless the group failed before."""
        if self.failure is None:
            self.failure = death


class SplitPart(PersistentStateMixin):
    """A snapshot part whose items live partly here, partly in the groups.

    A group that never got ready (the system stopped while it started) trained
    nothing, so the items it was sent are saved from this process's copies.
    """

    def __init__(
        self,
        part: str,
        local: Mapping[str, PersistentStateMixin],
        links: Sequence[GroupLink],
        sent: Callable[[TrainingGroup], Mapping[str, PersistentStateMixin]],
        mode: str,
    ) -> None:
        self._part = part
        self._local = local
        self._links = links
        self._sent = sent
        self._mode = mode

    def save_state(self, path: Path) -> None:
        """Create ``path``, save this process's items, then each group's."""
        path.mkdir()
        save_items(path, self._local)
        for link in self._links:
            if not link.ready:
                save_items(path, self._sent(link.group))
                continue
            link.save_part(path, self._part, SAVE_TIMEOUT)

    def take_back(self, path: Path) -> None:
        """Load the items that trained in ready groups from the saved part ``path``."""
        for link in self._links:
            if link.ready:
                for name, item in self._sent(link.group).items():
                    item.load_state(path / name)

    def load_state(self, path: Path) -> None:
        """Refuse: states are loaded before the groups start."""
        raise RuntimeError(
            f"A snapshot cannot be loaded into a running system in {self._mode} mode."
        )


class RemoteBuffer:
    """A buffer's length and capacity as its group reports them."""

    def __init__(self, name: str, lengths: Mapping[str, int], max_size: Any) -> None:
        self._name = name
        self._lengths = lengths
        self.max_size = max_size

    def __len__(self) -> int:
        return self._lengths.get(self._name, 0)


class RemoteTrainingSide(TrainingSide):
    """The training side as groups that run elsewhere, one :class:`GroupLink` each.

    Subclasses make the links (:meth:`_make_link`) and may say which models have
    a parameter path of their own (:meth:`_own_path_models`).
    """

    MODE: ClassVar[str]
    """The value of ``LaunchConfig.training`` this side implements."""

    def __init__(
        self,
        trainers: TrainersDict,
        models: TrainingModelsDict,
        data_users: DataUsersDict,
        buffers: Mapping[str, DataBuffer[Any, Any]],
        groups: Sequence[Sequence[str]] | None,
        settings: Mapping[str, Any],
        tracking: SystemTracking,
    ) -> None:
        """Plan the groups and prepare a link for each; none starts yet.

        Args:
            trainers: The attached trainers.
            models: All training models.
            data_users: All data users (the agent's collectors are theirs).
            buffers: All buffers, by name.
            groups: ``LaunchConfig.training_groups``.
            settings: ``switch_interval``, ``torch_num_threads``, ``gc_freeze``,
                ``preimport_torch`` (see :func:`pamiq_core.realtime.runtime_settings`)
                and ``seed`` (``LaunchConfig.seed``) for the groups.
            tracking: The system's tracking; the trainers and buffers that move
                to a group run their system hooks there, and what they log is
                fed back to it.

        Raises:
            ValueError: If the groups are not a valid split of the trainers.
        """
        self._trainers = trainers
        self._models = models
        self._data_users = data_users
        self._settings = dict(settings)
        self._groups = plan_groups(trainers, models, buffers, groups)
        self._run_stats = {name: RunStats() for name in trainers}
        self._lengths = {name: len(buffer) for name, buffer in buffers.items()}
        self._buffers = {
            name: RemoteBuffer(name, self._lengths, getattr(buffer, "max_size", None))
            for name, buffer in buffers.items()
        }
        collectors = data_users.data_collectors_dict
        self._links: list[GroupLink] = []
        for group in self._groups:
            reports = Reports(
                group,
                {n: models.data[n] for n in group.models},
                self._run_stats,
                self._lengths,
                tracking.tracker.feed,
                self.WHERE,
                self.ERROR,
            )
            self._links.append(self._make_link(group, collectors, reports))
            tracking.hand_over(
                [trainers[n] for n in group.trainers]
                + [data_users[n].buffer for n in group.buffers]
            )
        self._threads = {
            link.group.label: GroupProxyThread(link) for link in self._links
        }
        remote_models = {m for g in self._groups for m in g.models}
        remote_buffers = {b for g in self._groups for b in g.buffers}
        self._parts = {
            "models": SplitPart(
                "models",
                {n: m for n, m in models.data.items() if n not in remote_models},
                self._links,
                lambda g: {n: models.data[n] for n in g.models},
                self.MODE,
            ),
            "data": SplitPart(
                "data",
                {n: u for n, u in data_users.data.items() if n not in remote_buffers},
                self._links,
                lambda g: {n: data_users[n] for n in g.buffers},
                self.MODE,
            ),
            "trainers": SplitPart(
                "trainers",
                {},
                self._links,
                lambda g: {n: trainers[n] for n in g.trainers},
                self.MODE,
            ),
        }

    WHERE: ClassVar[str] = "the training side"
    """How errors name the place a group runs."""

    ERROR: ClassVar[type[Exception]] = RuntimeError
    """The error of a failure that has no exception of its own."""

    @abstractmethod
    def _make_link(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        reports: Reports,
    ) -> GroupLink:
        """The link to ``group``, which sends it the data of ``collectors``."""

    def _own_path_models(self, group: TrainingGroup) -> dict[str, int]:
        """Models of ``group`` whose parameters take a path of their own."""
        return {}

    @property
    def groups(self) -> list[TrainingGroup]:
        """The planned groups."""
        return list(self._groups)

    @override
    def threads(self) -> Mapping[str, BackgroundThread]:
        return self._threads

    @override
    def state_parts(self) -> Mapping[str, PersistentStateMixin]:
        return self._parts

    @override
    def run_stats(self) -> Mapping[str, RunStats]:
        return self._run_stats

    @override
    def buffer_views(self) -> Mapping[str, Any]:
        return self._buffers

    @override
    def take_back(self, snapshot: Path, parts: Sequence[str]) -> None:
        for part in parts:
            self._parts[part].take_back(snapshot / part)

    @override
    def unsaveable_parts(self) -> dict[str, str]:
        """The training parts that cannot be saved (a group is gone), with why."""
        dead = [link for link in self._links if link.ready and not link.alive]
        if not dead:
            return {}
        reason = "; ".join(str(link.failure) for link in dead)
        return dict.fromkeys(TRAINING_PARTS, reason)

    @override
    def start(self) -> None:
        """Check what each group gets, then start them (without waiting).

        Each group's proxy thread waits for its group when it starts, so the
        agent does not wait for the groups' start-up.

        Raises:
            TypeError: If a component cannot be sent to a group, naming it and
                the cause.
        """
        payloads = [self._payload(group) for group in self._groups]
        for link, payload in zip(self._links, payloads, strict=True):
            logger.info(f"Starting {self.WHERE} {link.group.label}...")
            link.start(payload)

    @override
    def close(self, timeout: float) -> None:
        for link in self._links:
            link.close(timeout)

    def _payload(self, group: TrainingGroup) -> Payload:
        trainers = {name: self._trainers[name] for name in group.trainers}
        models = TrainingModelsDict({n: self._models.data[n] for n in group.models})
        data_users = DataUsersDict({n: self._data_users[n] for n in group.buffers})
        for name, model in models.data.items():
            self._check_picklable(f"training model '{name}'", model)
        for name, user in data_users.items():
            self._check_picklable(f"buffer '{name}'", user.buffer)
        for name, trainer in trainers.items():
            attached = Attached({name: trainer}, models, data_users)
            self._check_picklable(f"trainer '{name}'", attached, trainer)
        own = self._own_path_models(group)
        return Payload(
            group=group,
            trainers=Attached(trainers, models, data_users),
            models=models,
            data_users=data_users,
            clock=time.get_global_time_controller().mirror(),
            switch_interval=self._settings.get("switch_interval"),
            torch_num_threads=self._settings.get("torch_num_threads"),
            gc_freeze=bool(self._settings.get("gc_freeze", False)),
            preimport_torch=bool(self._settings.get("preimport_torch", False)),
            seed=group_seed(self._settings.get("seed"), group),
            log_level=logging.getLogger().getEffectiveLevel(),
            generic_models=tuple(
                n
                for n, m in models.data.items()
                if m.has_inference_model
                and not m.inference_thread_only
                and n not in own
            ),
            shared_models=own,
        )

    def _check_picklable(
        self, what: str, component: object, shown: object = None
    ) -> None:
        check_picklable(what, component, f"training='{self.MODE}'", shown, self.dumps)

    def dumps(self, value: object) -> bytes:
        """Pickle what is sent to a group (this transport's pickler)."""
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class Attached(dict[str, Trainer]):
    """Trainers that, when pickled, are attached to their group's containers only.

    The trainers are attached to the containers of the whole system; a group
    gets its own models and data users, with which its trainers' containers are
    replaced in the pickled copy (the trainers here are unchanged).
    """

    def __init__(
        self,
        trainers: Mapping[str, Trainer],
        models: TrainingModelsDict,
        data_users: DataUsersDict,
    ) -> None:
        super().__init__(trainers)
        self._containers = (models, data_users)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reattached, (dict(self), *self._containers))


def _reattached(
    trainers: dict[str, Trainer],
    models: TrainingModelsDict,
    data_users: DataUsersDict,
) -> dict[str, Trainer]:
    for trainer in trainers.values():
        trainer._training_models = models  # pyright: ignore[reportPrivateUsage]
        trainer._data_users = data_users  # pyright: ignore[reportPrivateUsage]
    return trainers


def check_picklable(
    what: str,
    component: object,
    mode: str,
    shown: object = None,
    dumps: Callable[[object], bytes] = pickle.dumps,
) -> None:
    """Raise a clear error if ``component`` cannot be sent to a group.

    Args:
        what: Names the component in the error.
        component: What is sent.
        mode: The setting that sends it, as the error names it
            (``training='process'``).
        shown: Where to look for the attribute to blame (default: ``component``).
        dumps: The pickler that will send it.
    """
    try:
        dumps(component)
    except Exception as error:
        culprit = _unpicklable_attribute(component if shown is None else shown, dumps)
        where = "" if culprit is None else f" Its {culprit} cannot be pickled."
        raise TypeError(
            f"The {what} cannot be sent to its training group ({mode} pickles it): "
            f"{type(error).__name__}: {error}.{where} Keep only picklable "
            "attributes on it (no open files, locks, events, lambdas or threads; "
            "create those in setup() or in the system start hook instead)."
        ) from error


def _unpicklable_attribute(
    value: object, dumps: Callable[[object], bytes]
) -> str | None:
    """The first attribute (or item) of ``value`` that fails to pickle, described."""
    children: list[tuple[str, object]] = []
    if isinstance(value, dict):
        items = cast(dict[object, object], value).items()
        children = [(f"item {k!r}", v) for k, v in items]
    elif isinstance(value, list | tuple):
        children = [
            (f"item {i}", v) for i, v in enumerate(cast(Iterable[object], value))
        ]
    elif hasattr(value, "__dict__"):
        state: object = value.__getstate__()  # what pickling takes from it
        if isinstance(state, dict):
            items = cast(dict[str, object], state).items()
            children = [(f"attribute {k!r}", v) for k, v in items]
    for described, child in children:
        try:
            dumps(child)
        except Exception:
            return (
                f"{described} (a {type(child).__module__}.{type(child).__qualname__})"
            )
    return None
