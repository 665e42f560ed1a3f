"""The trainers of a system, by name."""

from collections import OrderedDict
from pathlib import Path

from pamiq_core.data import DataUsersDict
from pamiq_core.model import TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin

from .base import Trainer


class TrainersDict(OrderedDict[str, Trainer], PersistentStateMixin, ThreadEventMixin):
    """Named trainers, in the order the training thread runs them.

    Forwards attachment, state and pause/resume events to every trainer in order.
    Built at launch and afterwards only read; used by the training thread.
    """

    def attach_training_models(self, training_models: TrainingModelsDict) -> None:
        """Attach the same models container to every trainer."""
        for trainer in self.values():
            trainer.attach_training_models(training_models)

    def attach_data_users(self, data_users: DataUsersDict) -> None:
        """Attach the same data users container to every trainer."""
        for trainer in self.values():
            trainer.attach_data_users(data_users)

    def save_state(self, path: Path) -> None:
        """Create directory ``path`` and save each trainer to ``path / name``."""
        path.mkdir()
        for name, trainer in self.items():
            trainer.save_state(path / name)

    def load_state(self, path: Path) -> None:
        """Load each trainer from ``path / name``."""
        for name, trainer in self.items():
            trainer.load_state(path / name)

    def on_paused(self) -> None:
        """Tell every trainer the system paused."""
        super().on_paused()
        for trainer in self.values():
            trainer.on_paused()

    def on_resumed(self) -> None:
        """Tell every trainer the system resumed."""
        super().on_resumed()
        for trainer in self.values():
            trainer.on_resumed()
