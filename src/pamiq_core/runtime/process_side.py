"""Process mode: each training group runs in a process of its own.

The agent side stays in this process. For each group, a :class:`GroupProxyThread`
stands in for the training thread: the control thread pauses, resumes and stops it
like any background thread, and it carries each command to its process, answering
only once the process has. Snapshots keep the layout of thread mode: the training
processes write their items into the snapshot directory this process prepares.
"""

import ast
import logging
import multiprocessing
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataUsersDict
from pamiq_core.metrics import RunStats
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import BackgroundThread
from pamiq_core.tracking import SystemTracking
from pamiq_core.trainer import Trainer, TrainersDict

from . import messages
from .child import Payload, process_seed
from .process_link import ProcessLink
from .seam import TRAINING_PARTS, TrainingGroup, TrainingSide, plan_groups, save_items

logger = logging.getLogger(__name__)

SAVE_TIMEOUT = 600.0
"""Seconds a training process may take to save its part of a snapshot."""


class GroupProxyThread(BackgroundThread):
    """Stands in for a training group's thread, which runs in another process.

    It reports paused only after the process acknowledged the same pause request,
    and ends only after the process stopped training. Between commands it handles
    what the process reports, and dies with the process's error if it fails.
    """

    THREAD_TYPE = ThreadTypes.TRAINING

    def __init__(self, link: ProcessLink) -> None:
        """Steer the process behind ``link``."""
        self._link = link  # before the base class names the thread after it
        super().__init__()

    @property
    @override
    def thread_name(self) -> str:
        """``training[<trainer>, ...]``."""
        return self._link.group.label

    @override
    def is_running(self) -> bool:
        """Carry a pause to the process and keep listening to it while paused."""
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
        """Wait until the process has started (the agent acts meanwhile)."""
        super().on_start()
        if self._link.await_ready(cancelled=self._controller.is_shutdown):
            logger.info(f"The training process {self._link.group.label} is ready.")

    @override
    def on_tick(self) -> None:
        self._link.pump(0.01)

    @override
    def on_paused(self) -> None:
        """Pause the process, then report paused for the same request."""
        request = self._controller.pause_request()
        self._link.request(
            messages.Pause(request),
            lambda m: isinstance(m, messages.Paused) and m.request == request,
            None,
        )
        super().on_paused()

    @override
    def on_resumed(self) -> None:
        """Resume the process from this process's pamiq clock."""
        self._link.send(messages.Resume(time.get_global_time_controller().mirror()))
        super().on_resumed()

    @override
    def on_finally(self) -> None:
        """Stop the process's training (it stays for the final save)."""
        if self._link.alive and self._link.ready:
            self._link.request(
                messages.Stop(), lambda m: isinstance(m, messages.Stopped), None
            )
        super().on_finally()

    @override
    def describe_activity(self) -> str:
        return f"waiting for its process (pid {self._link.pid})"


class _SplitPart(PersistentStateMixin):
    """A snapshot part whose items live partly here, partly in training processes.

    A process that never got ready (the system stopped while it started) trained
    nothing, so the items it was sent are saved from this process's copies.
    """

    def __init__(
        self,
        part: str,
        local: Mapping[str, PersistentStateMixin],
        links: Sequence[ProcessLink],
        sent: Callable[[TrainingGroup], Mapping[str, PersistentStateMixin]],
    ) -> None:
        self._part = part
        self._local = local
        self._links = links
        self._sent = sent

    def save_state(self, path: Path) -> None:
        """Create ``path``, save this process's items, then each process's."""
        path.mkdir()
        save_items(path, self._local)
        for link in self._links:
            if not link.ready:
                save_items(path, self._sent(link.group))
                continue
            marker = link.sender.flush(SAVE_TIMEOUT) if self._part == "data" else 0
            answer: messages.Saved = link.request(
                messages.Save(str(path), self._part, marker),
                lambda m: isinstance(m, messages.Saved),
                SAVE_TIMEOUT,
            )
            if answer.error is not None:
                raise answer.error

    def load_state(self, path: Path) -> None:
        """Refuse: states are loaded before the training processes start."""
        raise RuntimeError(
            "A snapshot cannot be loaded into a running system in process mode."
        )


class _RemoteBuffer:
    """A buffer's length and capacity as its training process reports them."""

    def __init__(self, name: str, lengths: Mapping[str, int], max_size: Any) -> None:
        self._name = name
        self._lengths = lengths
        self.max_size = max_size

    def __len__(self) -> int:
        return self._lengths.get(self._name, 0)


class ProcessTrainingSide(TrainingSide):
    """The training side as one spawned process per training group."""

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
        """Plan the groups and prepare a process for each; none starts yet.

        Args:
            trainers: The attached trainers.
            models: All training models.
            data_users: All data users (the agent's collectors are theirs).
            buffers: All buffers, by name.
            groups: ``LaunchConfig.training_groups``.
            settings: ``switch_interval``, ``torch_num_threads``, ``gc_freeze``,
                ``preimport_torch`` (see :func:`pamiq_core.realtime.runtime_settings`)
                and ``seed`` (``LaunchConfig.seed``) for the training processes.
            tracking: The system's tracking; the trainers and buffers that move
                to a process run their system hooks there, and what they log is
                fed back to it.

        Raises:
            ValueError: If the groups are not a valid split of the trainers.
            RuntimeError: If the main module would start the system again in each
                training process (no ``if __name__ == "__main__":`` guard).
        """
        check_main_module_is_guarded()
        self._trainers = trainers
        self._models = models
        self._data_users = data_users
        self._settings = dict(settings)
        self._groups = plan_groups(trainers, models, buffers, groups)
        self._run_stats = {name: RunStats() for name in trainers}
        self._lengths = {name: len(buffer) for name, buffer in buffers.items()}
        self._buffers = {
            name: _RemoteBuffer(name, self._lengths, getattr(buffer, "max_size", None))
            for name, buffer in buffers.items()
        }
        collectors = data_users.data_collectors_dict
        self._shared: list[dict[str, int]] = []
        self._links: list[ProcessLink] = []
        for group in self._groups:
            group_models = {n: models.data[n] for n in group.models}
            slots, indices = _share_parameters(group_models)
            self._shared.append(indices)
            self._links.append(
                ProcessLink(
                    group,
                    collectors,
                    group_models,
                    self._run_stats,
                    self._lengths,
                    slots,
                    tracking.tracker.feed,
                )
            )
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
            "models": _SplitPart(
                "models",
                {n: m for n, m in models.data.items() if n not in remote_models},
                self._links,
                lambda g: {n: models.data[n] for n in g.models},
            ),
            "data": _SplitPart(
                "data",
                {n: u for n, u in data_users.data.items() if n not in remote_buffers},
                self._links,
                lambda g: {n: data_users[n] for n in g.buffers},
            ),
            "trainers": _SplitPart(
                "trainers",
                {},
                self._links,
                lambda g: {n: trainers[n] for n in g.trainers},
            ),
        }

    @property
    def groups(self) -> list[TrainingGroup]:
        """The planned groups, one process each."""
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
    def unsaveable_parts(self) -> dict[str, str]:
        """The training parts that cannot be saved (a process died), with why."""
        dead = [link for link in self._links if link.ready and not link.alive]
        if not dead:
            return {}
        reason = "; ".join(str(link.failure) for link in dead)
        return dict.fromkeys(TRAINING_PARTS, reason)

    @override
    def start(self) -> None:
        """Check what each process gets, then start them (without waiting).

        Each group's proxy thread waits for its process when it starts, so the
        agent does not wait for the training processes' start-up.

        Raises:
            TypeError: If a component cannot be sent to a training process,
                naming it and the cause.
        """
        payloads = [self._payload(group) for group in self._groups]
        for link, payload in zip(self._links, payloads, strict=True):
            logger.info(f"Starting the training process {link.group.label}...")
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
            _check_picklable(f"training model '{name}'", model)
        for name, user in data_users.items():
            _check_picklable(f"buffer '{name}'", user.buffer)
        for name, trainer in trainers.items():
            attached = _Attached({name: trainer}, models, data_users)
            _check_picklable(f"trainer '{name}'", attached, trainer)
        shared = self._shared[group.index]
        return Payload(
            group=group,
            trainers=_Attached(trainers, models, data_users),  # type: ignore[arg-type]
            models=models,
            data_users=data_users,
            clock=time.get_global_time_controller().mirror(),
            switch_interval=self._settings.get("switch_interval"),
            torch_num_threads=self._settings.get("torch_num_threads"),
            gc_freeze=bool(self._settings.get("gc_freeze", False)),
            preimport_torch=bool(self._settings.get("preimport_torch", False)),
            log_level=logging.getLogger().getEffectiveLevel(),
            generic_models=tuple(
                n
                for n, m in models.data.items()
                if m.has_inference_model
                and not m.inference_thread_only
                and n not in shared
            ),
            shared_models=shared,
            seed=process_seed(self._settings.get("seed"), group),
        )


def _share_parameters(
    models: Mapping[str, TrainingModel[Any]],
) -> tuple[list[object], dict[str, int]]:
    """Shared-memory slots for the models that offer them (torch models).

    Returns:
        The slots, to give the process when it starts, and each model's index.
    """
    context = multiprocessing.get_context("spawn")
    slots: list[object] = []
    indices: dict[str, int] = {}
    for name, model in models.items():
        share = getattr(model, "_share_with_process", None)
        if (
            share is None
            or not model.has_inference_model
            or model.inference_thread_only
        ):
            continue
        indices[name] = len(slots)
        slots.append(share(context.Lock()))
    return slots, indices


class _Attached(dict[str, Trainer]):
    """Trainers that, when pickled, are attached to their group's containers only.

    The trainers are attached to the containers of the whole system; a training
    process gets its group's models and data users, with which its trainers'
    containers are replaced in the pickled copy (the trainers here are unchanged).
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


def _check_picklable(what: str, component: object, shown: object = None) -> None:
    """Raise a clear error if ``component`` cannot be sent to a training process.

    Args:
        what: Names the component in the error.
        component: What is sent.
        shown: Where to look for the attribute to blame (default: ``component``).
    """
    try:
        pickle.dumps(component, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        culprit = _unpicklable_attribute(component if shown is None else shown)
        where = "" if culprit is None else f" Its {culprit} cannot be pickled."
        raise TypeError(
            f"The {what} cannot be sent to a training process "
            f"(training='process' pickles it): {type(error).__name__}: {error}."
            f"{where} Keep only picklable attributes on it (no open files, locks, "
            "events, lambdas or threads; create those in setup() or in the "
            "system start hook instead)."
        ) from error


def _unpicklable_attribute(value: object) -> str | None:
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
            pickle.dumps(child, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return (
                f"{described} (a {type(child).__module__}.{type(child).__qualname__})"
            )
    return None


def check_main_module_is_guarded() -> None:
    """Refuse to start training processes from an unguarded main module.

    A spawned training process imports the main module again; a call to
    ``launch`` at its top level, outside ``if __name__ == "__main__":``, would
    start the whole system again in every training process.

    Raises:
        RuntimeError: Naming the file and line of the unguarded call, or saying
            that ``launch`` is running inside a training process.
    """
    if multiprocessing.parent_process() is not None and _is_spawn_bootstrap():
        raise RuntimeError(
            "launch() was called while a training process imported the main "
            'module: put the call under `if __name__ == "__main__":`, since '
            "training='process' starts processes that import the main module "
            "again."
        )
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or not str(path).endswith(".py"):
        return
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return
    for statement in tree.body:
        line = _unguarded_launch(statement)
        if line is not None:
            raise RuntimeError(
                f"{path}, line {line}, calls launch() at the top level of the main "
                "module. training='process' starts processes that import the main "
                "module again, and each would launch the system again: put the "
                'call under `if __name__ == "__main__":`.'
            )


def _is_spawn_bootstrap() -> bool:
    import multiprocessing.process  # noqa: PLC0415

    process = multiprocessing.process.current_process()
    return bool(getattr(process, "_inheriting", False))


def _unguarded_launch(node: ast.AST) -> int | None:
    """The line of a ``launch(...)`` call that ``node`` runs at import, if any."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return None  # runs when called, not at import
    if isinstance(node, ast.If) and _is_main_guard(node.test):
        return None
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else None
        if isinstance(func, ast.Name):
            name = func.id
        if name == "launch":
            return node.lineno
    for child in ast.iter_child_nodes(node):
        line = _unguarded_launch(child)
        if line is not None:
            return line
    return None


def _is_main_guard(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    values = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]
