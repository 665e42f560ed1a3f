"""The seam between the agent side and the training side of a running system.

A training mode is a :class:`TrainingSide`: background threads for the control
thread to steer (real threads, or proxies of processes), the state parts it owns,
and its measurements. Only three channels cross it: parameters (training to agent),
data (agent to training), and control and telemetry.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pamiq_core.data import DataBuffer
from pamiq_core.metrics import GroupSummary, RunStats
from pamiq_core.model import TrainingModel
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread.threads import BackgroundThread
from pamiq_core.trainer import Trainer

TRAINING_PARTS = ("models", "data", "trainers")
"""The snapshot parts that hold the training side's state."""


@dataclass(frozen=True)
class TrainingGroup:
    """Trainers that run together, with the training models and buffers they use.

    Attributes:
        index: The group's position in ``LaunchConfig.training_groups``.
        trainers: Names of the group's trainers, in run order.
        models: Names of the training models they fetched.
        buffers: Names of the data users (buffers) they fetched.
    """

    index: int
    trainers: tuple[str, ...]
    models: tuple[str, ...]
    buffers: tuple[str, ...]

    @property
    def label(self) -> str:
        """How logs and errors name the group: ``training[a, b]``."""
        return f"training[{', '.join(self.trainers)}]"


class TrainingSide(ABC):
    """Where the trainers of a system run, and how the agent side talks to them.

    Lifecycle: built after the components are wired and any state is loaded;
    :meth:`start` before the control loop; the control thread steers
    :meth:`threads` like any background thread (pause acknowledgements, shutdown);
    :meth:`close` after the final save.
    """

    @abstractmethod
    def threads(self) -> Mapping[str, BackgroundThread]:
        """The background threads the control thread steers, by status name."""

    @abstractmethod
    def state_parts(self) -> Mapping[str, PersistentStateMixin]:
        """The snapshot parts ``models``, ``data`` and ``trainers`` of this side."""

    @abstractmethod
    def run_stats(self) -> Mapping[str, RunStats]:
        """Training runs per trainer, for the metrics."""

    @abstractmethod
    def buffer_views(self) -> Mapping[str, Any]:
        """Per buffer, an object with ``len()`` and ``max_size``, for the metrics."""

    def parts_of(self, thread: BackgroundThread) -> tuple[str, ...]:
        """The snapshot parts a thread of this side uses (skipped if it is stuck)."""
        return TRAINING_PARTS

    def start(self) -> None:  # noqa: B027  (optional hook)
        """Start what must run before the threads start (processes, links)."""

    def close(self, timeout: float) -> None:  # noqa: B027  (optional hook)
        """Release what :meth:`start` started, within ``timeout`` seconds."""

    def group_summaries(self) -> dict[str, GroupSummary]:
        """Per group that runs elsewhere and reports it, its state (metrics)."""
        return {}

    def unsaveable_parts(self) -> dict[str, str]:
        """Parts that cannot be saved now (their process died), with the reason."""
        return {}

    def take_back(self, snapshot: Path, parts: Sequence[str]) -> None:  # noqa: B027
        """Load what trained elsewhere from the final ``snapshot`` into this process.

        Called once after the final save, so that the objects passed to ``launch``
        end as trained in every mode. ``parts`` are the training parts the
        snapshot holds. Sides that train in this process have nothing to do.
        """


def plan_groups(
    trainers: Mapping[str, Trainer],
    models: Mapping[str, TrainingModel[Any]],
    buffers: Mapping[str, DataBuffer[Any, Any]],
    groups: Sequence[Sequence[str]] | None,
) -> list[TrainingGroup]:
    """Split the trainers into groups and give each the models and buffers it uses.

    A trainer uses the models it fetched with ``get_training_model`` (and those it
    holds without fetching them, ``Trainer.unsynced_models``) and the buffers it
    fetched with ``get_data_user`` (or names as its training condition), in its
    attach hooks; so call this after the trainers are attached.

    Args:
        trainers: The system's trainers by name.
        models: The system's training models by name.
        buffers: The system's buffers by name.
        groups: Trainer names per group; None puts every trainer in one group.

    Raises:
        ValueError: If a name is not a trainer, a trainer is in no group or in two,
            a group is empty, or trainers of different groups share a training
            model or a buffer (naming it and the trainers).
    """
    names = list(trainers)
    if groups is None:
        groups = [names] if names else []
    _check_partition(names, groups)
    uses = {name: _uses(trainers[name], models, buffers) for name in names}
    _check_nothing_shared(groups, uses)
    planned: list[TrainingGroup] = []
    for index, group in enumerate(groups):
        group_models = {m for t in group for m in uses[t][0]}
        group_buffers = {b for t in group for b in uses[t][1]}
        planned.append(
            TrainingGroup(
                index,
                tuple(group),
                tuple(m for m in models if m in group_models),
                tuple(b for b in buffers if b in group_buffers),
            )
        )
    return planned


def _check_partition(names: list[str], groups: Sequence[Sequence[str]]) -> None:
    seen: dict[str, int] = {}
    for index, group in enumerate(groups):
        if isinstance(group, str) or not group:
            raise ValueError(
                f"training_groups[{index}] must be a non-empty list of trainer "
                f"names, got {group!r}."
            )
        for name in group:
            if name not in names:
                raise ValueError(
                    f"training_groups[{index}] names {name!r}, which is not a "
                    f"trainer; the trainers are {names}."
                )
            if name in seen:
                raise ValueError(
                    f"The trainer {name!r} is in training_groups[{seen[name]}] and "
                    f"in training_groups[{index}]; every trainer belongs to exactly "
                    "one group."
                )
            seen[name] = index
    missing = [name for name in names if name not in seen]
    if missing:
        raise ValueError(
            f"The trainers {missing} are in no training group; every trainer "
            "belongs to exactly one group of training_groups."
        )


def _uses(
    trainer: Trainer,
    models: Mapping[str, TrainingModel[Any]],
    buffers: Mapping[str, DataBuffer[Any, Any]],
) -> tuple[set[str], set[str]]:
    model_names = set(trainer._retrieved_model_names)  # pyright: ignore[reportPrivateUsage]
    # Models held without fetching travel with the trainer's attributes anyway: the
    # group owns them, so that they train, are saved and are named as in thread mode.
    model_names.update(trainer.unsynced_models)
    buffer_names = set(trainer._retrieved_data_user_names)  # pyright: ignore[reportPrivateUsage]
    condition = trainer.training_condition_data_user
    if condition is not None:
        buffer_names.add(condition)
    return model_names & set(models), buffer_names & set(buffers)


def _check_nothing_shared(
    groups: Sequence[Sequence[str]], uses: Mapping[str, tuple[set[str], set[str]]]
) -> None:
    owner: dict[tuple[str, str], tuple[int, str]] = {}
    for index, group in enumerate(groups):
        for trainer in group:
            models, buffers = uses[trainer]
            for kind, name in [("training model", m) for m in sorted(models)] + [
                ("buffer", b) for b in sorted(buffers)
            ]:
                key = (kind, name)
                if key in owner and owner[key][0] != index:
                    other_index, other = owner[key]
                    raise ValueError(
                        f"The {kind} {name!r} is used by the trainer {other!r} "
                        f"(training_groups[{other_index}]) and by {trainer!r} "
                        f"(training_groups[{index}]); trainers that share a "
                        f"{kind} must be in the same group."
                    )
                owner.setdefault(key, (index, trainer))


def save_items(path: Path, items: Mapping[str, PersistentStateMixin]) -> None:
    """Save each item to ``path / name`` in the existing directory ``path``."""
    for name, item in items.items():
        item.save_state(path / name)
