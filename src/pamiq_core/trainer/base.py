"""The trainer interface: what the training thread runs, one trainer at a time."""

import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataUser, DataUsersDict
from pamiq_core.model import TrainingModel, TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.tracking import SystemEventMixin, TrackingMixin
from pamiq_core.utils.init_check import InitChecked, check_initialised
from pamiq_core.utils.naming import (
    UnknownNameError,
    unknown_name_message,
    warn_misspelt_hooks,
)

from ._held_models import HeldModel, find_held_models

_PREVIOUS_TRAINING_TIME_FILE = "previous_training_time"
_GLOBAL_STEP_FILE = "global_step"


class UnsyncedModelWarning(UserWarning):
    """A trainer holds a model it did not fetch with ``get_training_model``.

    Such a model is trained but never synced: the agent keeps its old parameters.
    """


class Trainer(
    ABC,
    PersistentStateMixin,
    ThreadEventMixin,
    TrackingMixin,
    SystemEventMixin,
    InitChecked,
):
    """Trains models on collected data whenever its training condition holds.

    The training thread calls :meth:`run` for each trainer in turn. A run trains only
    if :meth:`is_trainable`: by default, when the condition data user (if any) holds
    at least ``min_buffer_size`` items and at least ``min_new_data_count`` of them
    were collected since the previous run. A run then calls :meth:`setup`,
    :meth:`train`, :meth:`sync_models` and :meth:`teardown`.

    Subclasses fetch their models and data users in the attach hooks
    (:meth:`on_training_models_attached`, :meth:`on_data_users_attached`) through
    :meth:`get_training_model` and :meth:`get_data_user`; models fetched that way are
    synced to their inference models after every run.

    A trainer that holds a system model it never fetched (for example one passed to
    its constructor) would train it without syncing it; it gets an
    :class:`UnsyncedModelWarning` once, after attach or after its first training
    run, and :attr:`unsynced_models` names those models.

    :meth:`log_scalar` logs under ``trainers/<name>/`` at :attr:`global_step`, the
    number of runs that trained so far (saved with the trainer's state).

    Ownership: every method runs in the training thread (save/load while the system
    is paused); the trainer holds no lock.
    """

    _init_marker: ClassVar[str | None] = "_retrieved_model_names"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Warn about methods whose names look like misspelt hooks."""
        super().__init_subclass__(**kwargs)
        warn_misspelt_hooks(cls)

    def __init__(
        self,
        training_condition_data_user: str | None = None,
        min_buffer_size: int = 0,
        min_new_data_count: int = 0,
    ) -> None:
        """Set the condition under which a run trains.

        Args:
            training_condition_data_user: Name of the data user whose amount of data
                gates training; ``None`` means always trainable.
            min_buffer_size: Items that data user must hold.
            min_new_data_count: Items that must have been collected since the
                previous training run.
        """
        super().__init__()
        self.training_condition_data_user = training_condition_data_user
        self.min_buffer_size = min_buffer_size
        self.min_new_data_count = min_new_data_count
        self._retrieved_model_names: set[str] = set()
        self._retrieved_data_user_names: set[str] = set()
        self._previous_training_time = float("-inf")
        self._training_models: TrainingModelsDict | None = None
        self._data_users: DataUsersDict | None = None
        self.global_step = 0
        """Training runs that trained so far; the default step of :meth:`log_scalar`.

        :meth:`run` adds one after each run that trained; a trainer may set it.
        """
        self._unsynced_models: tuple[str, ...] = ()
        self._held_models_checks_left = 2  # after attach, after the first run
        self._warned_unsynced = False

    @property
    def unsynced_models(self) -> tuple[str, ...]:
        """Names of system models this trainer holds but never fetched.

        They are trained, if at all, without being synced to the agent. Found after
        attach and after the first training run (an :class:`UnsyncedModelWarning`
        tells the first time). Safe to read from any thread.
        """
        return self._unsynced_models

    def attach_training_models(self, training_models: TrainingModelsDict) -> None:
        """Give the trainer its models, then call :meth:`on_training_models_attached`.

        Attached to another models container (the trainer moves to a new system),
        it forgets which models it fetched from the previous one.

        Raises:
            MissingSuperInitError: If ``Trainer.__init__`` never ran.
        """
        check_initialised(self)
        if self._training_models is not training_models:
            self._retrieved_model_names.clear()
            self._held_models_checks_left = 2
        self._training_models = training_models
        self.on_training_models_attached()
        self._check_held_models()

    def on_training_models_attached(self) -> None:
        """Hook: fetch models with :meth:`get_training_model` here."""

    def attach_data_users(self, data_users: DataUsersDict) -> None:
        """Give the trainer its data users, then call :meth:`on_data_users_attached`.

        Raises:
            MissingSuperInitError: If ``Trainer.__init__`` never ran.
        """
        check_initialised(self)
        if self._data_users is not data_users:
            self._retrieved_data_user_names.clear()
        self._data_users = data_users
        self.on_data_users_attached()

    def on_data_users_attached(self) -> None:
        """Hook: fetch data users with :meth:`get_data_user` here."""

    def get_training_model(self, name: str) -> TrainingModel[Any]:
        """Return the training model ``name`` and sync it after every run.

        Raises:
            KeyError: If there is no such model, or it is used only by the
                inference thread.
            AttributeError: If no training models are attached yet.
        """
        training_models = self._training_models
        if training_models is None:
            raise AttributeError(
                f"{type(self).__name__}.get_training_model({name!r}) was called "
                "before the training models were attached (for example in "
                "__init__). Fetch models in on_training_models_attached(), which "
                "launch() calls once they are attached."
            )
        if name not in training_models:
            message = unknown_name_message(
                name,
                training_models,
                "training model",
                f"{type(self).__name__}.get_training_model",
                "launch(models=...)",
            )
            if self._data_users is not None and name in self._data_users:
                message += f" {name!r} is a data user: use get_data_user({name!r})."
            raise UnknownNameError(message)
        model = training_models[name]
        self._retrieved_model_names.add(name)
        return model

    def get_data_user(self, name: str) -> DataUser[Any]:
        """Return the data user ``name``.

        Raises:
            KeyError: If there is no such data user.
            AttributeError: If no data users are attached yet.
        """
        data_users = self._data_users
        if data_users is None:
            raise AttributeError(
                f"{type(self).__name__}.get_data_user({name!r}) was called before "
                "the data users were attached (for example in __init__). Fetch data "
                "users in on_data_users_attached(), which launch() calls once they "
                "are attached."
            )
        if name not in data_users:
            message = unknown_name_message(
                name,
                data_users,
                "data user",
                f"{type(self).__name__}.get_data_user",
                "launch(buffers=...)",
            )
            if self._training_models is not None and name in self._training_models:
                message += (
                    f" {name!r} is a training model: use get_training_model({name!r})."
                )
            raise UnknownNameError(message)
        self._retrieved_data_user_names.add(name)
        return data_users[name]

    def is_trainable(self) -> bool:
        """Whether a run should train now.

        With a condition data user: update it, then require ``min_buffer_size``
        items in it and ``min_new_data_count`` items collected since the previous
        successful check (the count is skipped when the size test fails). A
        successful check records the current pamiq time as the previous training
        time.
        """
        condition = self.training_condition_data_user
        if condition is None:
            return True
        data_users = self._data_users
        if data_users is not None and condition not in data_users:
            raise UnknownNameError(
                unknown_name_message(
                    condition,
                    data_users,
                    "data user",
                    f"{type(self).__name__}(training_condition_data_user="
                    f"{condition!r})",
                    "launch(buffers=...)",
                )
            )
        data_user = self.get_data_user(condition)
        data_user.update()
        trainable = (
            len(data_user) >= self.min_buffer_size
            and data_user.count_data_added_since(self._previous_training_time)
            >= self.min_new_data_count
        )
        if trainable:
            self._previous_training_time = time.time()
        return trainable

    def setup(self) -> None:
        """Hook called before :meth:`train` in each training run."""

    @abstractmethod
    def train(self) -> None:
        """Train the models once."""

    def sync_models(self) -> None:
        """Sync every model fetched through :meth:`get_training_model`."""
        training_models = self._training_models
        if training_models is None:
            return
        for name in self._retrieved_model_names:
            training_models[name].sync()

    def teardown(self) -> None:
        """Hook called after :meth:`sync_models` in each training run."""

    def run(self) -> bool:
        """Train once if :meth:`is_trainable`; return whether it trained.

        Calls :meth:`setup`, :meth:`train`, :meth:`sync_models`, :meth:`teardown` in
        that order. An exception in any of them propagates and skips the rest.
        After :meth:`train`, every model fetched through :meth:`get_training_model`
        is marked as trained (:meth:`TrainingModel.mark_trained`); after
        :meth:`teardown`, :attr:`global_step` grows by one.
        """
        if not self.is_trainable():
            return False
        self._train_once()
        return True

    def _train_once(self) -> None:
        """One training run without the trainability check (see :meth:`run`)."""
        self.setup()
        self._check_setup()
        self.train()
        self._count_model_updates()
        self.sync_models()
        self.teardown()
        if self._held_models_checks_left > 0:
            self._check_held_models()
        self.global_step += 1

    def _check_setup(self) -> None:
        """Hook for subclasses: check that :meth:`setup` did what the base needs."""

    def _check_held_models(self) -> None:
        """Look for models held without fetching; warn once per trainer."""
        training_models = self._training_models
        if training_models is None:
            return
        self._held_models_checks_left -= 1
        held = find_held_models(self, training_models, self._retrieved_model_names)
        self._unsynced_models = tuple(
            dict.fromkeys(m.name for m in held if m.name is not None)
        )
        if held and not self._warned_unsynced:
            self._warned_unsynced = True
            warnings.warn(
                _held_models_message(type(self).__name__, held),
                UnsyncedModelWarning,
                stacklevel=2,
            )

    @override
    def _tracking_step(self) -> int:
        return self.global_step

    def _count_model_updates(self) -> None:
        training_models = self._training_models
        if training_models is None:
            return
        for name in self._retrieved_model_names:
            training_models[name].mark_trained()

    def save_state(self, path: Path) -> None:
        """Create directory ``path``; write the previous training time and the step.

        Layout: ``path / "previous_training_time"``, UTF-8 text of the float
        (e.g. ``-inf``), and ``path / "global_step"``, UTF-8 text of the int.
        """
        path.mkdir()
        (path / _PREVIOUS_TRAINING_TIME_FILE).write_text(
            str(self._previous_training_time), encoding="utf-8"
        )
        (path / _GLOBAL_STEP_FILE).write_text(str(self.global_step), encoding="utf-8")

    def load_state(self, path: Path) -> None:
        """Read back what :meth:`save_state` wrote.

        A state without ``global_step`` (saved by PAMIQ-Core 0.6) loads as step 0.
        """
        self._previous_training_time = float(
            (path / _PREVIOUS_TRAINING_TIME_FILE).read_text(encoding="utf-8")
        )
        step_file = path / _GLOBAL_STEP_FILE
        self.global_step = (
            int(step_file.read_text(encoding="utf-8")) if step_file.exists() else 0
        )


def _held_models_message(trainer: str, held: list[HeldModel]) -> str:
    parts: list[str] = []
    for model in held:
        if model.name is None:
            parts.append(
                f"{model.attribute} is a {model.model_class} that is not among the "
                "system's models, so it is never synced or saved: pass it to "
                "launch(models={...}) and fetch it with get_training_model(name)"
            )
        else:
            what = "the module of" if model.inner else "the"
            parts.append(
                f"{model.attribute} is {what} model {model.name!r} "
                f"({model.model_class}), which {trainer} never fetched with "
                f"get_training_model({model.name!r}), so its training never reaches "
                "the agent: fetch it in on_training_models_attached() instead of "
                "keeping the object you created"
            )
    return f"{trainer} holds models that it never syncs: " + "; ".join(parts) + "."
