"""The inference thread: steps the interaction as fast as the interaction allows."""

from typing import Any

from typing_extensions import override

from pamiq_core import time
from pamiq_core.interaction import Interaction
from pamiq_core.metrics import StepPeriods
from pamiq_core.utils.schedulers import TimeIntervalScheduler

from ..thread_control import ThreadEventMixin
from ..thread_types import ThreadTypes
from .base import BackgroundThread


class StepHook(ThreadEventMixin):
    """Work the inference thread does around each step, in its own thread.

    Lock-step mode runs the trainers here, between steps (see
    :mod:`pamiq_core.runtime.lockstep_side`). The pause hooks run after the
    interaction's, before the thread reports paused; the resume hooks after the
    interaction's.
    """

    def before_step(self) -> bool:
        """Whether to step now; False skips this tick (commands are handled next)."""
        return True

    def after_step(self) -> None:
        """Run after each step, once the step is counted."""


class InferenceThread(BackgroundThread):
    """Runs ``interaction.step()`` in a loop, with no sleep of its own.

    The interaction paces itself (for example :class:`FixedIntervalInteraction`).
    Each step's period is recorded in :attr:`step_periods` for the metrics, and every
    ``log_tick_time_statistics_interval`` seconds of pamiq time the mean and standard
    deviation of the step time are logged. Time spent paused is not counted as a
    step.
    """

    THREAD_TYPE = ThreadTypes.INFERENCE

    def __init__(
        self,
        interaction: Interaction[Any, Any],
        log_tick_time_statistics_interval: float = 60.0,
    ) -> None:
        """Step ``interaction`` once the thread starts.

        Args:
            interaction: The agent and environment to step.
            log_tick_time_statistics_interval: Pamiq seconds between step-time logs.
        """
        super().__init__()
        self._interaction = interaction
        self.step_periods = StepPeriods()
        """Recent step periods, for the metrics (written by this thread only)."""
        self._scheduler = TimeIntervalScheduler(
            log_tick_time_statistics_interval, self.log_tick_time_statistics
        )
        self._step_hook: StepHook | None = None

    def attach_step_hook(self, hook: StepHook) -> None:
        """Run ``hook`` around every step (one hook; attach before the thread starts)."""
        self._step_hook = hook

    def log_tick_time_statistics(self) -> None:
        """Log the mean and standard deviation of the step time since the last log."""
        count, mean, deviation = self.step_periods.take_statistics()
        if count == 0:
            return
        self._logger.info(
            f"Step time: {mean:.3e} ± {deviation:.3e} [s] in {count} steps."
        )

    @override
    def on_start(self) -> None:
        super().on_start()
        self._interaction.setup()

    @override
    def on_tick(self) -> None:
        super().on_tick()
        hook = self._step_hook
        if hook is not None and not hook.before_step():
            return
        self._interaction.step()
        now = time.fixed_perf_counter()
        self.step_periods.tick(now)
        self._scheduler.update()
        if hook is not None:
            hook.after_step()

    @override
    def on_paused(self) -> None:
        """Pause the interaction (and the step hook), then report paused."""
        self._interaction.on_paused()
        if self._step_hook is not None:
            self._step_hook.on_paused()
        super().on_paused()

    @override
    def on_resumed(self) -> None:
        """Resume the interaction, then report running."""
        self.step_periods.restart()
        self._interaction.on_resumed()
        if self._step_hook is not None:
            self._step_hook.on_resumed()
        super().on_resumed()

    @override
    def on_finally(self) -> None:
        super().on_finally()
        self._interaction.teardown()
