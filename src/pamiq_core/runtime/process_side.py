"""Process mode: each training group runs in a process of its own.

The agent side stays in this process. For each group, a
:class:`~.remote_side.GroupProxyThread` stands in for the training thread and a
:class:`~.process_link.ProcessLink` carries its commands to the process. Snapshots
keep the layout of thread mode: the training processes write their items into the
snapshot directory this process prepares.
"""

import ast
import multiprocessing
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from typing_extensions import override

from pamiq_core.data import DataBuffer, DataCollector, DataUsersDict
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.tracking import SystemTracking
from pamiq_core.trainer import TrainersDict

from .process_link import ProcessLink, TrainingProcessError
from .remote_side import RemoteTrainingSide, Reports
from .seam import TrainingGroup


class ProcessTrainingSide(RemoteTrainingSide):
    """The training side as one spawned process per training group."""

    MODE = "process"
    WHERE = "the training process"
    ERROR = TrainingProcessError

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

        Args: as :class:`~.remote_side.RemoteTrainingSide`.

        Raises:
            ValueError: If the groups are not a valid split of the trainers.
            RuntimeError: If the main module would start the system again in each
                training process (no ``if __name__ == "__main__":`` guard).
        """
        check_main_module_is_guarded()
        self._shared: dict[int, dict[str, int]] = {}
        super().__init__(
            trainers, models, data_users, buffers, groups, settings, tracking
        )

    @override
    def _make_link(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        reports: Reports,
    ) -> ProcessLink:
        slots, indices = _share_parameters(reports.models)
        self._shared[group.index] = indices
        return ProcessLink(group, collectors, reports, slots)

    @override
    def _own_path_models(self, group: TrainingGroup) -> dict[str, int]:
        return self._shared[group.index]


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
