"""The training thread: runs each trainer in turn, resting when none can train."""

from typing import ClassVar

from typing_extensions import override

from pamiq_core import time
from pamiq_core.metrics import RunStats
from pamiq_core.trainer import Trainer, TrainersDict

from ..thread_types import ThreadTypes
from .base import BackgroundThread


class TrainingThread(BackgroundThread):
    """Calls ``run()`` on one trainer per tick, round-robin in insertion order.

    When a whole round trains nothing, the thread rests before the next round,
    waiting on the controller so that a pause or shutdown wakes it at once. The rest
    starts at ``IDLE_WAIT_MIN`` and doubles up to ``IDLE_WAIT_MAX`` while nothing
    trains; any training run resets it. So an idle training thread does not spin,
    and new data is picked up within ``IDLE_WAIT_MAX`` seconds.
    """

    THREAD_TYPE = ThreadTypes.TRAINING
    IDLE_WAIT_MIN: ClassVar[float] = 0.0005
    IDLE_WAIT_MAX: ClassVar[float] = 0.01

    def __init__(self, trainers: TrainersDict) -> None:
        """Run ``trainers`` once the thread starts."""
        super().__init__()
        self._trainers = trainers
        self._queue: list[tuple[str, Trainer]] | None = None
        self._index = 0
        self._untrained_in_a_row = 0
        self._idle_wait = self.IDLE_WAIT_MIN
        self.run_stats: dict[str, RunStats] = {name: RunStats() for name in trainers}
        """Training runs per trainer, for the metrics (written by this thread)."""
        self._running_trainer: str | None = None

    @override
    def on_tick(self) -> None:
        super().on_tick()
        if self._queue is None:
            self._queue = list(self._trainers.items())
        if not self._queue:
            self._rest()
            return
        name, trainer = self._queue[self._index]
        self._index = (self._index + 1) % len(self._queue)
        start = time.fixed_perf_counter()
        self._running_trainer = name
        try:
            trained = trainer.run()
        finally:
            self._running_trainer = None
        if trained:
            end = time.fixed_perf_counter()
            self.run_stats.setdefault(name, RunStats()).record(
                end - start, end, trainer.unsynced_models
            )
            self._logger.debug(f"Trained {name} in {end - start:.2f} seconds")
            self._untrained_in_a_row = 0
            self._idle_wait = self.IDLE_WAIT_MIN
            return
        self._untrained_in_a_row += 1
        if self._untrained_in_a_row >= len(self._queue):
            self._rest()

    @override
    def describe_activity(self) -> str:
        """The running trainer, if any, and where the thread is."""
        where = super().describe_activity()
        name = self._running_trainer
        return where if name is None else f"running trainer '{name}', {where}"

    def _rest(self) -> None:
        self._controller.wait_for_command(self._idle_wait)
        self._idle_wait = min(self._idle_wait * 2, self.IDLE_WAIT_MAX)
        self._untrained_in_a_row = 0

    @override
    def on_paused(self) -> None:
        """Pause the trainers, then report paused."""
        self._trainers.on_paused()
        super().on_paused()

    @override
    def on_resumed(self) -> None:
        """Resume the trainers, then report running."""
        self._trainers.on_resumed()
        super().on_resumed()
