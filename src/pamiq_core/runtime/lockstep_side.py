"""Lock-step mode: the agent and the trainers take turns in one thread, in virtual time.

The inference thread steps the interaction ``train_every`` times, then runs one
round of trainers (each trainer's ``run()`` once, in order; a trainer whose
training condition does not hold skips its turn), and so on. Pamiq time is
virtual (:meth:`~pamiq_core.time.TimeController.use_virtual_time`): it moves only
as the steps let it, so nothing waits for real time and the run is the same
every time. Everything else is thread mode's: the same components, snapshots,
control thread, web API and metrics.

How much pamiq time a step takes: an interaction that paces itself sleeps in
pamiq time (a :class:`~pamiq_core.interaction.FixedIntervalInteraction` sleeps to
the end of its period), which moves the virtual clocks by what it slept; a step
in which no pamiq time passed takes :data:`DEFAULT_STEP_INTERVAL`. A round of
trainers runs at the pamiq time the step ended and takes one tick of the clocks
(the smallest amount by which they can move, about 1e-16 s near 0), so that
what the next step collects counts as collected after the round (a trainer's
``min_new_data_count`` counts items stamped strictly after its previous run).
"""

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataBuffer, DataUsersDict
from pamiq_core.metrics import RunStats
from pamiq_core.model import TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ReadOnlyController
from pamiq_core.thread.threads import BackgroundThread, InferenceThread
from pamiq_core.thread.threads.inference import StepHook
from pamiq_core.tracking import Tracker
from pamiq_core.trainer import TrainersDict

from .seam import TRAINING_PARTS, TrainingSide

logger = logging.getLogger(__name__)

DEFAULT_STEP_INTERVAL = 0.1
"""Pamiq seconds a step takes when it lets no pamiq time pass (an unpaced interaction)."""

TRACKING_BACKLOG = 10_000
"""Logged records waiting for the writer above which the lock-step thread waits for it.

So that a run as fast as the CPU allows never fills the tracking queue, which
would drop records (launch's queue holds 100,000).
"""

_BACKLOG_CHECK_EVERY = 32
"""Steps between two looks at the tracking backlog."""

_HOLD_WAIT = 0.1
"""Real seconds between two looks for a command while the run is at its limit."""


@dataclass(frozen=True)
class LockstepSettings:
    """How a lock-step run goes.

    Attributes:
        train_every: Agent steps between two rounds of trainers (counted across
            resumes, so a resumed run trains at the same steps).
        max_uptime: Pamiq seconds after which the run stops stepping and asks for
            a shutdown (counted from this launch's first step).
        max_steps: Agent steps after which it does the same (this launch's); None
            for no limit.
        resumed: Whether the system loaded a snapshot; if not, the virtual clocks
            start at :data:`~pamiq_core.time.VIRTUAL_EPOCH`.
    """

    train_every: int = 1
    max_uptime: float = math.inf
    max_steps: int | None = None
    resumed: bool = False


class LockstepTrainingSide(TrainingSide):
    """The training side run by the inference thread itself, between steps.

    It has no thread of its own: it hooks into the inference thread
    (:class:`LockstepHook`), so a pause or a save always finds the agent and the
    trainers between two steps. Parameters and data go directly (the same objects
    as thread mode, used by one thread); the snapshot parts are the containers
    themselves.
    """

    def __init__(
        self,
        trainers: TrainersDict,
        models: TrainingModelsDict,
        data_users: DataUsersDict,
        buffers: Mapping[str, DataBuffer[Any, Any]],
        *,
        agent_thread: InferenceThread,
        controller: ReadOnlyController,
        settings: LockstepSettings,
        steps: Callable[[], int],
        request_shutdown: Callable[[str], None],
        tracker: Tracker | None = None,
    ) -> None:
        """Hook the trainers into ``agent_thread``.

        Args:
            trainers: The attached trainers, run in this order.
            models: All training models.
            data_users: All data users.
            buffers: All buffers, by name (for the metrics).
            agent_thread: The inference thread that runs everything.
            controller: The controller it follows (to wait for commands at a limit).
            settings: Rounds and limits.
            steps: The system's agent steps so far, across resumes (read once,
                before the first step: a loaded snapshot's count).
            request_shutdown: Asks the control thread to shut down, with a reason.
            tracker: The system's tracker, whose backlog the thread keeps short.
        """
        self._agent_thread = agent_thread
        self._parts: dict[str, PersistentStateMixin] = {
            "models": models,
            "data": data_users,
            "trainers": trainers,
        }
        self._buffers = dict(buffers)
        self._settings = settings
        self.hook = LockstepHook(
            trainers, controller, settings, steps, request_shutdown, tracker
        )
        """What the inference thread runs around each step."""
        agent_thread.attach_step_hook(self.hook)

    @override
    def threads(self) -> Mapping[str, BackgroundThread]:
        return {}

    @override
    def state_parts(self) -> Mapping[str, PersistentStateMixin]:
        return self._parts

    @override
    def run_stats(self) -> Mapping[str, RunStats]:
        return self.hook.run_stats

    @override
    def buffer_views(self) -> Mapping[str, Any]:
        return self._buffers

    @override
    def start(self) -> None:
        """Make pamiq time virtual: from the snapshot's readings, or from the epoch."""
        clock = time.get_global_time_controller()
        loaded = clock.last_loaded_state() if self._settings.resumed else None
        clock.use_virtual_time(time.VIRTUAL_EPOCH if loaded is None else loaded)
        logger.info(
            f"Lock-step mode: {self._settings.train_every} step(s) per round of "
            f"trainers; pamiq time is virtual and starts at {clock.time():.6f}."
        )

    @override
    def close(self, timeout: float) -> None:
        """Let pamiq time follow the real clocks again, from the run's last reading."""
        time.get_global_time_controller().use_real_time()

    @override
    def unsaveable_parts(self) -> dict[str, str]:
        """The training parts, if the lock-step thread is still running (stuck)."""
        if not self._agent_thread.is_alive():
            return {}
        activity = self._agent_thread.describe_activity()
        reason = f"the lock-step (inference) thread did not stop ({activity})"
        return dict.fromkeys(TRAINING_PARTS, reason)


def _tick(clock: time.TimeController) -> float:
    """The smallest number of seconds that moves each of ``clock``'s readings."""
    return max(
        math.ulp(clock.time()),
        math.ulp(clock.perf_counter()),
        math.ulp(clock.monotonic()),
    )


class LockstepHook(StepHook):
    """Runs in the inference thread: moves virtual time, runs rounds, keeps limits.

    Ownership: every method runs in the inference thread; :attr:`run_stats` is
    read by the metrics from any thread (written here only).
    """

    def __init__(
        self,
        trainers: TrainersDict,
        controller: ReadOnlyController,
        settings: LockstepSettings,
        steps: Callable[[], int],
        request_shutdown: Callable[[str], None],
        tracker: Tracker | None,
    ) -> None:
        """See :class:`LockstepTrainingSide`."""
        self._trainers = list(trainers.items())
        self._trainers_dict = trainers
        self._controller = controller
        self._settings = settings
        self._steps = steps
        self._request_shutdown = request_shutdown
        self._tracker = tracker
        self._clock = time.get_global_time_controller()
        self._start_time: float | None = None  # pamiq time of this launch's first step
        self._step_start = 0.0
        self._system_steps = 0  # the system's steps, across resumes
        self._steps_taken = 0  # this launch's
        self._shutdown_requested = False
        self.run_stats: dict[str, RunStats] = {name: RunStats() for name in trainers}
        """Training runs per trainer, for the metrics."""

    @override
    def before_step(self) -> bool:
        """Step unless a limit is reached; at a limit, wait for a command instead."""
        clock = self._clock
        if self._start_time is None:
            self._start_time = clock.time()
            self._system_steps = self._steps()  # what a loaded snapshot counted
        limit = self._reached_limit()
        if limit is not None:
            if not self._shutdown_requested:
                self._shutdown_requested = True
                self._request_shutdown(limit)
            # Hold between steps until the control thread pauses or stops us.
            self._controller.wait_for_command(_HOLD_WAIT)
            return False
        self._step_start = clock.monotonic()
        return True

    def _reached_limit(self) -> str | None:
        settings = self._settings
        if settings.max_steps is not None and self._steps_taken >= settings.max_steps:
            return f"Max steps reached ({settings.max_steps} steps in lock-step mode)."
        if settings.max_uptime == math.inf:
            return None
        assert self._start_time is not None
        # The control thread's own test, on the same clock: it can never stop the
        # run before this one does.
        if self._clock.time() - self._start_time > settings.max_uptime:
            return (
                f"Max uptime reached ({settings.max_uptime} pamiq seconds in "
                "lock-step mode)."
            )
        return None

    @override
    def after_step(self) -> None:
        """Finish the step's pamiq time; after every ``train_every`` steps, a round."""
        clock = self._clock
        if clock.monotonic() == self._step_start:
            clock.advance(DEFAULT_STEP_INTERVAL)
        self._steps_taken += 1
        self._system_steps += 1
        if self._trainers and self._system_steps % self._settings.train_every == 0:
            self._run_round()
            clock.advance(_tick(clock))
        if self._steps_taken % _BACKLOG_CHECK_EVERY == 0:
            self._keep_tracking_backlog_short()

    def _run_round(self) -> None:
        for name, trainer in self._trainers:
            start = time.fixed_perf_counter()
            if trainer.run():
                end = time.fixed_perf_counter()
                self.run_stats[name].record(end - start, end, trainer.unsynced_models)

    def _keep_tracking_backlog_short(self) -> None:
        tracker = self._tracker
        if tracker is not None and tracker.stats()["queued"] >= TRACKING_BACKLOG:
            # Waiting for the writer is safe from this thread: flush only waits on
            # the writer's condition, and the launching thread stops the tracker
            # only after this thread has ended. In real-time modes the agent never
            # waits; here nothing runs in real time, and a dropped record would
            # make the logs differ from run to run.
            tracker.flush()

    @override
    def on_paused(self) -> None:
        """Pause the trainers."""
        self._trainers_dict.on_paused()

    @override
    def on_resumed(self) -> None:
        """Resume the trainers."""
        self._trainers_dict.on_resumed()
