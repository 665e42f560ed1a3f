"""A trainer for torch models whose optimizers live as long as the trainer.

A sync never replaces a :class:`TorchTrainingModel`'s module or its parameters, so an
optimizer built once keeps stepping the right tensors across every sync.
:class:`TorchTrainer` therefore creates its optimizers and LR schedulers once, at the
first :meth:`~TorchTrainer.setup`, and again only after :meth:`~TorchTrainer.load_state`
(to apply the loaded states to fresh objects). A training run costs nothing extra.
"""

import warnings
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast, overload

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from typing_extensions import TypeAliasType, override

from pamiq_core.trainer import Trainer
from pamiq_core.utils.checks import article

from .model import TorchTrainingModel

__all__ = [
    "StateDict",
    "OptimizersDict",
    "LRSchedulersDict",
    "OptimizersSetup",
    "TorchTrainer",
]

StateDict = TypeAliasType("StateDict", dict[str, Any])
OptimizersDict = TypeAliasType("OptimizersDict", dict[str, Optimizer])
LRSchedulersDict = TypeAliasType("LRSchedulersDict", dict[str, LRScheduler])
OptimizersSetup = TypeAliasType(
    "OptimizersSetup", OptimizersDict | tuple[OptimizersDict, LRSchedulersDict]
)

_ModuleT = TypeVar("_ModuleT", bound=nn.Module)

_OPTIMIZER_SUFFIX = ".optim.pt"
_SCHEDULER_SUFFIX = ".lrsch.pt"


class TorchTrainer(Trainer):
    """A trainer whose optimizers and LR schedulers persist across training runs.

    Subclasses implement :meth:`create_optimizers` and :meth:`train`, and fetch their
    models with :meth:`get_torch_training_model`. Subclasses that override
    :meth:`setup` must call ``super().setup()``.

    Lifecycle (0.6 rebuilt the optimizers in every run; ours keeps them):

    - The first :meth:`setup` calls :meth:`create_optimizers` and fills
      :attr:`optimizers` and :attr:`lr_schedulers`. Later runs use the same objects,
      so whatever ``train()`` changes in them (a learning rate, an added param
      group, the step counts) carries over to the next run as it is.
    - :meth:`load_state` reads the saved states into :attr:`optimizer_states` and
      :attr:`lr_scheduler_states`. The next :meth:`setup` calls
      :meth:`create_optimizers` again, applies those states to the new objects with
      ``load_state_dict`` (optimizers first, then schedulers) and empties the two
      dicts. :meth:`create_optimizers` must therefore build optimizers with the
      param groups the saved ones had, groups added during training included.
    - :meth:`save_state` writes the live objects' ``state_dict()``; between a
      :meth:`load_state` and the next :meth:`setup` it writes the states waiting
      to be applied, so a load followed by a save loses nothing.

    Attributes:
        optimizers: The live optimizers by name.
        lr_schedulers: The live LR schedulers by name.
        optimizer_states: Optimizer states waiting for the next :meth:`setup` to
            apply them: what :meth:`load_state` read, merged into the states the
            live optimizers had at that moment. Empty otherwise; the live state is
            ``optimizers[name].state_dict()``.
        lr_scheduler_states: The same for LR schedulers.

    The four dicts are kept for the life of the trainer (updated in place, never
    rebound). Like every trainer, it is used by the training thread only.
    """

    _init_marker: ClassVar[str | None] = "_optimizers_outdated"

    def __init__(
        self,
        training_condition_data_user: str | None = None,
        min_buffer_size: int = 0,
        min_new_data_count: int = 0,
    ) -> None:
        """Set the training condition (see :class:`~pamiq_core.trainer.Trainer`).

        Args:
            training_condition_data_user: Name of the data user whose amount of data
                gates training; ``None`` means always trainable.
            min_buffer_size: Items that data user must hold.
            min_new_data_count: Items that must have been collected since the
                previous training run.
        """
        super().__init__(
            training_condition_data_user, min_buffer_size, min_new_data_count
        )
        self.optimizers: OptimizersDict = {}
        self.lr_schedulers: LRSchedulersDict = {}
        self.optimizer_states: dict[str, StateDict] = {}
        self.lr_scheduler_states: dict[str, StateDict] = {}
        # True until the first setup and after each load_state: the next setup
        # creates the optimizers (and applies the states waiting in the dicts).
        self._optimizers_outdated = True
        self._warned_setup = False

    @overload
    def get_torch_training_model(self, name: str) -> TorchTrainingModel[nn.Module]: ...
    @overload
    def get_torch_training_model(
        self, name: str, module_cls: type[_ModuleT]
    ) -> TorchTrainingModel[_ModuleT]: ...
    def get_torch_training_model(
        self, name: str, module_cls: type[nn.Module] = nn.Module
    ) -> TorchTrainingModel[Any]:
        """Return the torch training model ``name`` (synced after every run).

        Its ``model`` attribute and that module's parameters never change identity,
        so keeping a reference from attach time is fine.

        Args:
            name: The model's name in the training models dict.
            module_cls: The class the wrapped module must be an instance of.

        Raises:
            KeyError: If there is no such model, or it is used only by the
                inference thread.
            TypeError: If the model is not a :class:`TorchTrainingModel`, or its
                module is not a ``module_cls``.
        """
        training_model = self.get_training_model(name)
        if not isinstance(training_model, TorchTrainingModel):
            raise TypeError(
                f"Model {name} is not a instance of TorchTrainingModel. It is "
                f"{article(type(training_model).__name__)}; fetch it with "
                f"get_training_model({name!r}), or wrap the module in "
                "TorchTrainingModel(module) where it is passed to launch(models=...)."
            )
        training_model = cast(TorchTrainingModel[Any], training_model)
        if not isinstance(training_model.model, module_cls):
            raise TypeError(
                f"Internal model is not a instance of {module_cls.__name__}. Model "
                f"{name!r} wraps {article(type(training_model.model).__name__)}, "
                f"not {article(module_cls.__name__)} as {type(self).__name__} asked."
            )
        return training_model

    @abstractmethod
    def create_optimizers(self) -> OptimizersSetup:
        """Create the optimizers, and optionally LR schedulers, over the models.

        Called at the first :meth:`setup` and at the first one after each
        :meth:`load_state`; the previous objects are still in :attr:`optimizers` and
        :attr:`lr_schedulers` while it runs.

        Returns:
            Optimizers by name, or a tuple of optimizers by name and LR schedulers
            by name.
        """

    @override
    def setup(self) -> None:
        """Create the optimizers and schedulers if there are none or a load happened.

        Raises:
            TypeError: If :meth:`create_optimizers` returns something other than a
                dict or a 2-tuple of dicts.
            KeyError: If a loaded state has no optimizer or scheduler of its name.
            ValueError: If a loaded optimizer state does not fit the new optimizer
                (e.g. a different number of param groups).
        """
        super().setup()
        if self._optimizers_outdated:
            self._create_optimizers_and_schedulers()

    @override
    def _check_setup(self) -> None:
        if self._optimizers_outdated and not self._warned_setup:
            self._warned_setup = True
            warnings.warn(
                f"{type(self).__name__}.setup() does not call super().setup(), so "
                "create_optimizers() never ran: the optimizers are not created, and "
                "not saved or restored with the state. Call super().setup() first "
                f"in {type(self).__name__}.setup().",
                RuntimeWarning,
                stacklevel=3,
            )

    def _create_optimizers_and_schedulers(self) -> None:
        optimizers, schedulers = _split_setup(self.create_optimizers())
        _check_names(self.optimizer_states, optimizers, "optimizer")
        _check_names(self.lr_scheduler_states, schedulers, "LR scheduler")
        self.optimizers.clear()
        self.optimizers.update(optimizers)
        self.lr_schedulers.clear()
        self.lr_schedulers.update(schedulers)
        for name, state in self.optimizer_states.items():
            try:
                optimizers[name].load_state_dict(state)
            except ValueError as e:
                raise ValueError(
                    f"The loaded state of optimizer '{name}' does not fit the one "
                    f"create_optimizers() made ({e}); it must create the param "
                    "groups the saved optimizer had, groups added during training "
                    "included."
                ) from e
        for name, state in self.lr_scheduler_states.items():
            schedulers[name].load_state_dict(state)
        self.optimizer_states.clear()
        self.lr_scheduler_states.clear()
        self._optimizers_outdated = False

    @override
    def save_state(self, path: Path) -> None:
        """Create directory ``path`` and write the trainer's state there.

        Layout: ``previous_training_time`` (see
        :meth:`pamiq_core.trainer.Trainer.save_state`), ``<name>.optim.pt`` per
        optimizer and ``<name>.lrsch.pt`` per LR scheduler (``torch.save`` of the
        state dict). Writes the live objects' states, or, while a loaded state
        waits to be applied, the waiting states; nothing of either before the
        first run or load.
        """
        super().save_state(path)
        if self._optimizers_outdated:
            optimizer_states = self.optimizer_states
            scheduler_states = self.lr_scheduler_states
        else:
            optimizer_states = {n: o.state_dict() for n, o in self.optimizers.items()}
            scheduler_states = {
                n: s.state_dict() for n, s in self.lr_schedulers.items()
            }
        for name, state in optimizer_states.items():
            torch.save(state, path / f"{name}{_OPTIMIZER_SUFFIX}")
        for name, state in scheduler_states.items():
            torch.save(state, path / f"{name}{_SCHEDULER_SUFFIX}")

    @override
    def load_state(self, path: Path) -> None:
        """Read what :meth:`save_state` wrote; the next :meth:`setup` applies it.

        The optimizer and scheduler states are loaded onto the CPU;
        ``load_state_dict`` moves them to the parameters' devices. They are merged
        into :attr:`optimizer_states` and :attr:`lr_scheduler_states`, which first
        receive the live objects' states: an optimizer without a file in ``path``
        keeps the state it had.

        Raises:
            ValueError: If ``path`` is not an existing directory.
            FileNotFoundError: If ``path`` has no ``previous_training_time`` file.
        """
        if not path.is_dir():
            raise ValueError(f"Path {path} is not a directory or does not exist")
        super().load_state(path)
        if not self._optimizers_outdated:
            for name, optimizer in self.optimizers.items():
                self.optimizer_states[name] = optimizer.state_dict()
            for name, scheduler in self.lr_schedulers.items():
                self.lr_scheduler_states[name] = scheduler.state_dict()
        self.optimizer_states.update(_load_states(path, _OPTIMIZER_SUFFIX))
        self.lr_scheduler_states.update(_load_states(path, _SCHEDULER_SUFFIX))
        self._optimizers_outdated = True


def _split_setup(setup: object) -> tuple[OptimizersDict, LRSchedulersDict]:
    """The optimizers and schedulers from what ``create_optimizers`` returned."""
    if isinstance(setup, Mapping):
        return dict(cast(Mapping[str, Optimizer], setup)), {}
    if isinstance(setup, tuple):
        items = cast(tuple[object, ...], setup)
        if len(items) == 2:
            optimizers, schedulers = items
            if isinstance(optimizers, Mapping) and isinstance(schedulers, Mapping):
                return (
                    dict(cast(Mapping[str, Optimizer], optimizers)),
                    dict(cast(Mapping[str, LRScheduler], schedulers)),
                )
        got = "a tuple of (" + ", ".join(type(v).__name__ for v in items) + ")"
    else:
        got = f"a {type(setup).__name__}"
    raise TypeError(
        "create_optimizers() must return a dict of optimizers by name, or a tuple "
        f"(optimizers dict, LR schedulers dict); got {got}."
    )


def _check_names(
    states: Mapping[str, StateDict], created: Mapping[str, object], kind: str
) -> None:
    for name in states:
        if name not in created:
            raise KeyError(
                f"A loaded state belongs to {kind} '{name}', but create_optimizers() "
                f"made no {kind} of that name; it made: {sorted(created)}."
            )


def _load_states(path: Path, suffix: str) -> dict[str, StateDict]:
    """The state files ``<name><suffix>`` in ``path``, by name."""
    return {
        file.name[: -len(suffix)]: torch.load(file, map_location="cpu")
        for file in sorted(path.glob(f"*{suffix}"))
    }
