"""Thread mode: every trainer runs in one training thread of this process."""

from collections.abc import Mapping
from typing import Any

from typing_extensions import override

from pamiq_core.data import DataBuffer, DataUsersDict
from pamiq_core.metrics import RunStats
from pamiq_core.model import TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread.threads import BackgroundThread, TrainingThread
from pamiq_core.trainer import TrainersDict

from .seam import TrainingSide


class ThreadTrainingSide(TrainingSide):
    """The training side as one :class:`TrainingThread` sharing this process.

    Parameters reach the agent through each model's own ``sync`` (an O(1) swap for
    torch models), data through the collectors' queues, control through events.
    """

    def __init__(
        self,
        trainers: TrainersDict,
        models: TrainingModelsDict,
        data_users: DataUsersDict,
        buffers: Mapping[str, DataBuffer[Any, Any]],
    ) -> None:
        """Run ``trainers`` on ``models`` and ``data_users`` in one thread."""
        self._thread = TrainingThread(trainers)
        self._parts: dict[str, PersistentStateMixin] = {
            "models": models,
            "data": data_users,
            "trainers": trainers,
        }
        self._buffers = dict(buffers)

    @override
    def threads(self) -> Mapping[str, BackgroundThread]:
        return {"training": self._thread}

    @override
    def state_parts(self) -> Mapping[str, PersistentStateMixin]:
        return self._parts

    @override
    def run_stats(self) -> Mapping[str, RunStats]:
        return self._thread.run_stats

    @override
    def buffer_views(self) -> Mapping[str, Any]:
        return self._buffers
