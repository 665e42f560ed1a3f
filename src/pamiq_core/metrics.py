"""Cheap, thread-safe measurements of a running system.

Each measurement has exactly one writer thread, which owns it: the inference thread
records step times, the training thread records training runs and syncs, the
control thread records the start and each save. Any other
thread (the web API, a test) may read a measurement at any time. Writers never take a
lock on the hot path; a reader copies plain Python values, which the interpreter reads
and writes atomically, so a read is a consistent-enough snapshot: at worst it misses
the record being written at that instant.

Every measurement reports itself through ``summary()``, a typed, JSON-ready dict
(``None`` where nothing was measured yet). These dicts are the one description of
the metrics: :class:`Metrics` only gathers them, ``GET /api/metrics`` serves them,
and the web API's OpenAPI document is generated from their types.
"""

import math
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from typing_extensions import TypedDict

from pamiq_core import time

# pydantic, which generates the OpenAPI document from these TypedDicts at development
# time, needs typing_extensions' TypedDict on Python 3.11.


class StepSummary(TypedDict, closed=True):
    """Inference steps in total, and the periods between the recent ones (seconds)."""

    steps: int
    """Steps since the start."""
    steps_per_second: float
    """Steps per second over the recent window; 0 before two steps."""
    period_p50: float | None
    """Median period between two steps of the window."""
    period_p99: float | None
    """99th percentile of the periods of the window."""
    period_max: float | None
    """Longest period of the window."""
    period_mean: float | None
    """Mean period of the window."""


class RunSummary(TypedDict, closed=True):
    """Training runs of one trainer (seconds)."""

    runs: int
    """Runs that trained."""
    last_duration: float | None
    """Duration of the latest run."""
    mean_duration: float | None
    """Mean duration of all runs."""
    last_finished_at: float | None
    """When the latest run ended, on the training thread's performance counter."""
    since_last_run: float | None
    """Seconds since the latest run ended."""
    unsynced_models: list[str]
    """Models the trainer holds without having fetched them, so that its runs
    never sync them (see ``Trainer.unsynced_models``); empty when there are none."""


class SyncSummary(TypedDict, closed=True):
    """Syncs of one model and how fresh its inference copy is.

    The versions count training updates; the inference version is the training
    version delivered by the latest sync. A model without an inference side that
    syncs (training-only, or used by the inference thread only) has neither an
    inference version nor a lag.
    """

    syncs: int
    """Syncs so far."""
    last_sync_duration: float | None
    """Duration of the latest sync (seconds)."""
    training_version: int
    """Training updates so far."""
    inference_version: int | None
    """The training version of the latest sync; None without a synced inference side."""
    versions_behind: int | None
    """Training updates the inference side has not received yet."""
    syncs_inference_model: bool
    """Whether syncs feed an inference model."""


class BufferSummary(TypedDict, closed=True):
    """Items stored in one buffer, and how many it can hold."""

    size: int
    """Items stored."""
    capacity: int | None
    """The buffer's ``max_size``; None if it has none."""


class GroupSummary(TypedDict, closed=True):
    """A training group that runs elsewhere (``training="ray"``), and its channels."""

    status: str
    """``"starting"``, ``"running"``, ``"down"`` (being restarted) or ``"failed"``."""
    where: str | None
    """The address of the node(s) it runs on."""
    down_reason: str | None
    """Why it is down, while it is."""
    restarts: int
    """Restarts after a failure so far."""
    replicas: int
    """Data-parallel replicas of the group."""
    items_sent: int
    """Collected items sent to it."""
    items_dropped: int
    """Collected items dropped because it fell behind."""
    parameter_updates: int
    """Syncs whose parameters reached the agent."""
    parameter_bytes: int
    """Bytes of those parameters."""
    last_parameter_delay: float | None
    """Seconds from the latest such sync to its hand-over to the agent."""


class LastSave(TypedDict, closed=True):
    """The latest snapshot saved while running."""

    path: str
    """Where the snapshot was written."""
    time: float
    """When it was written (Unix time)."""


class SaveFailure(TypedDict, closed=True):
    """The latest save that failed."""

    message: str
    """Why it failed."""
    path: str | None
    """The snapshot it was writing, if known."""
    time: float
    """When it failed (Unix time)."""


class SystemSummary(TypedDict, closed=True):
    """The system as a whole: its status, uptime and saves."""

    status: int | None
    """The value of the system status (1 active, 2 pausing, 3 paused, 4 resuming,
    5 shutting down); None if unknown."""
    status_name: str | None
    """The status as a word, such as ``"shutting down"``; None if unknown."""
    uptime: float | None
    """Pamiq seconds since the start: stands still while paused, scaled by the time
    scale."""
    uptime_real: float | None
    """Real seconds since the start."""
    time_scale: float
    """The current time scale of pamiq time."""
    last_save: LastSave | None
    """The latest snapshot saved while running."""
    save_failures: int
    """Saves that failed while running."""
    last_save_failure: SaveFailure | None
    """The latest save that failed."""


SCALARS_CURSOR_PATTERN = r"^[0-9a-f]{1,64}:[0-9]{1,20}$"
"""What a ``ScalarsSummary.cursor`` looks like: the history's identity and revision."""


class ScalarLatest(TypedDict, closed=True):
    """The last value logged to a series, exactly (not averaged)."""

    step: int
    """Its step."""
    value: float | None
    """The value; None if it was not finite (NaN or infinite)."""
    time: float
    """When it was logged (Unix time)."""


class ScalarSeries(TypedDict, closed=True):
    """One logged series: its latest value and its points, oldest first.

    The points are three parallel lists. Each point is the mean of ``stride``
    consecutive values, at the step and time of the last of them: a series keeps
    a bounded number of points, and when it is full, neighbours are merged
    pairwise and the stride doubles.
    """

    latest: ScalarLatest
    steps: list[int]
    """The step of each point."""
    values: list[float | None]
    """The value of each point; None where it was not finite."""
    times: list[float]
    """When each point's last value was logged (Unix time)."""
    stride: int
    """Values per point (a power of two)."""
    partial: bool
    """Whether the last point is still filling (the mean of fewer values than
    stride); the next answer that carries this series replaces it."""


class ScalarEvent(TypedDict, closed=True):
    """Something the system did, marked on the charts."""

    time: float
    """When it happened (Unix time)."""
    kind: str
    """What happened: start, pause, resume, save or stop."""
    detail: str | None
    """More about it: the path of a saved snapshot."""


class ScalarHistorySummary(TypedDict, closed=True):
    """What ``ScalarHistory.summary`` returns: :class:`ScalarsSummary` less ``stats``."""

    cursor: str
    since: str | None
    groups: dict[str, dict[str, ScalarSeries]]
    events: list[ScalarEvent]


class TrackingCounters(TypedDict, closed=True):
    """What the tracking writer has done since the start."""

    written: int
    """Records handed to the loggers."""
    queued: int
    """Records waiting for the writer."""
    dropped: int
    """Records dropped because the queue was full."""
    logger_failures: dict[str, int]
    """Failed calls per logger."""


class ScalarsSummary(TypedDict, closed=True):
    """The scalars logged with ``log_scalar`` since the system started.

    Each series keeps a bounded, downsampled history (see ``ScalarSeries``).
    Without ``scalars_since`` the answer holds everything; with the ``cursor`` of
    a previous answer, only what changed after it (``since`` says which).
    """

    cursor: str
    """Pass it as ``scalars_since`` to get only what changes after this answer."""
    since: str | None
    """The cursor this answer continues; None: the answer holds the whole history
    (no cursor given, or one of another system)."""
    groups: dict[str, dict[str, ScalarSeries]]
    """Series by component (``trainers/dqn``, ``agent``, ...), then by the name the
    component logged. An answer that continues a cursor holds only the series that
    changed after it, each with only its newer points (the first of them may take
    the place of a partial point)."""
    events: list[ScalarEvent]
    """The system's events, oldest first (after the cursor, if one was given)."""
    stats: TrackingCounters


class MetricsSnapshot(TypedDict, closed=True):
    """What the running system measures (``GET /api/metrics``).

    Durations are in seconds; null stands for not measured yet.
    """

    time: float
    """When the snapshot was taken (Unix time)."""
    system: SystemSummary
    inference: StepSummary
    trainers: dict[str, RunSummary]
    """Training runs per trainer."""
    models: dict[str, SyncSummary]
    """Syncs and versions per model."""
    buffers: dict[str, BufferSummary]
    """Fill per buffer."""
    scalars: ScalarsSummary | None
    """What the components logged (``log_scalar``); None where nothing keeps it."""
    groups: dict[str, GroupSummary]
    """Training groups that run elsewhere (Ray mode), by label."""


SummaryT_co = TypeVar("SummaryT_co", covariant=True)


class Summarized(Protocol[SummaryT_co]):
    """Anything that reports a measurement, such as the stats classes of this module.

    :class:`Metrics` reads measurements only through this method, so a stand-in
    (a proxy for a measurement kept in another process) may take a part's place.
    """

    def summary(self) -> SummaryT_co:
        """The measurement as JSON-ready values."""
        ...


class StatusLike(Protocol):
    """What :class:`Metrics` reads of a system status (``SystemStatus`` has it)."""

    @property
    def value(self) -> int:
        """The status as a number."""
        ...

    @property
    def status_name(self) -> str:
        """The status as a word."""
        ...


def _measured(value: float) -> float | None:
    """None for a value that was not measured (NaN or infinite), else the value."""
    return value if math.isfinite(value) else None


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The value below which ``fraction`` of ``sorted_values`` fall (nearest rank)."""
    if not sorted_values:
        return None
    rank = max(0, math.ceil(fraction * len(sorted_values)) - 1)
    return sorted_values[rank]


class StepPeriods:
    """Periods between consecutive steps of a loop, over a recent window.

    ``tick(now)`` is called once per step by the loop's own thread; it costs about
    0.2 us (``benchmarks/metrics.py``) and allocates nothing but the period's float.
    """

    def __init__(self, window: int = 1000) -> None:
        """Keep the most recent ``window`` periods.

        Raises:
            ValueError: If ``window`` is not positive.
        """
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}.")
        self._periods = [0.0] * window
        self._window = window
        self._index = 0
        self._filled = 0
        self.steps = 0
        """Number of ticks recorded."""
        self._previous: float | None = None
        self._count = 0  # periods since the last take_statistics() (Welford)
        self._mean = 0.0
        self._squared_deviations = 0.0

    def tick(self, now: float) -> None:
        """Record a step that happened at ``now`` (seconds, any monotonic clock)."""
        self.steps += 1
        previous = self._previous
        self._previous = now
        if previous is None:
            return
        period = now - previous
        self._count += 1
        delta = period - self._mean
        self._mean += delta / self._count
        self._squared_deviations += delta * (period - self._mean)
        index = self._index
        self._periods[index] = period
        index += 1
        self._index = 0 if index == self._window else index
        if self._filled < self._window:
            self._filled += 1

    def restart(self) -> None:
        """Forget the previous tick, so a pause is not counted as one long period."""
        self._previous = None

    def take_statistics(self) -> tuple[int, float, float]:
        """Count, mean and standard deviation of every period since the last call.

        Unlike :meth:`summary`, which covers the recent window, this covers all the
        periods since it was last called (the loop's thread calls it, for its
        periodic step-time log), and starts the next count. Welford's running
        update keeps the deviation exact where a sum of squares would cancel.
        """
        count, mean = self._count, self._mean
        variance = self._squared_deviations / (count - 1) if count > 1 else 0.0
        self._count, self._mean, self._squared_deviations = 0, 0.0, 0.0
        return count, mean, math.sqrt(variance)

    def periods(self) -> list[float]:
        """The recorded periods of the window, in no particular order."""
        return self._periods[: self._filled]

    def summary(self) -> StepSummary:
        """Steps, steps per second and period statistics (seconds) of the window."""
        steps = self.steps
        periods = sorted(self.periods())
        total = sum(periods)
        return {
            "steps": steps,
            "steps_per_second": len(periods) / total if total > 0 else 0.0,
            "period_p50": _percentile(periods, 0.50),
            "period_p99": _percentile(periods, 0.99),
            "period_max": periods[-1] if periods else None,
            "period_mean": total / len(periods) if periods else None,
        }


@dataclass
class RunStats:
    """How often and how long something ran (a trainer's training runs)."""

    runs: int = 0
    total_duration: float = 0.0
    last_duration: float = math.nan
    last_finished_at: float = math.nan
    unsynced_models: tuple[str, ...] = ()

    def record(
        self,
        duration: float,
        finished_at: float,
        unsynced_models: tuple[str, ...] = (),
    ) -> None:
        """Record one run of ``duration`` seconds that ended at ``finished_at``.

        ``unsynced_models`` are the models the trainer held without fetching them
        (``Trainer.unsynced_models``) when the run ended.
        """
        self.unsynced_models = unsynced_models
        self.last_duration = duration
        self.last_finished_at = finished_at
        self.total_duration += duration
        self.runs += 1

    def summary(self) -> RunSummary:
        """Runs, last and mean duration, and when the last run ended (seconds).

        ``last_finished_at`` is on the writer's clock (``time.fixed_perf_counter``);
        ``since_last_run`` is the time since then on that clock.
        """
        runs = self.runs
        last_finished_at = self.last_finished_at
        return {
            "runs": runs,
            "last_duration": _measured(self.last_duration),
            "mean_duration": self.total_duration / runs if runs else None,
            "last_finished_at": _measured(last_finished_at),
            "since_last_run": _measured(time.fixed_perf_counter() - last_finished_at),
            "unsynced_models": list(self.unsynced_models),
        }


@dataclass
class SyncStats:
    """Syncs of one model and how fresh its inference copy is.

    ``training_version`` counts updates of the training model (its trainers bump
    it); ``inference_version`` is the training version the inference model received
    at its latest sync. Right after a sync the two are equal; their gap is how many
    updates inference has not seen yet.
    """

    syncs: int = 0
    last_duration: float = math.nan
    training_version: int = 0
    inference_version: int = 0
    syncs_inference_model: bool = True
    """Whether syncs feed an inference model; False for a training-only model and
    for one used by the inference thread only, which report no inference version
    and no lag."""

    def record_sync(self, duration: float) -> None:
        """Record a sync that took ``duration`` seconds."""
        self.inference_version = self.training_version
        self.last_duration = duration
        self.syncs += 1

    def summary(self) -> SyncSummary:
        """Sync count, last sync duration (seconds) and both versions."""
        training_version = self.training_version
        inference_version = self.inference_version
        synced = self.syncs_inference_model
        return {
            "syncs": self.syncs,
            "last_sync_duration": _measured(self.last_duration),
            "training_version": training_version,
            "inference_version": inference_version if synced else None,
            "versions_behind": (
                max(0, training_version - inference_version) if synced else None
            ),
            "syncs_inference_model": synced,
        }


class SystemStats:
    """When the system started, and its saves (written by the control thread).

    Each event is stored as one tuple, replaced in a single assignment, so a reader
    never sees half of one.
    """

    def __init__(self) -> None:
        self.started: tuple[float, float] | None = None
        """Pamiq ``time.time()`` and real ``time.perf_counter()`` at the start."""
        self.last_save: tuple[str, float] | None = None
        """Path of the latest snapshot and when it was written (Unix time)."""
        self.save_failures: tuple[int, str | None, str, float] | None = None
        """Failed saves so far, and the latest one's path, message and Unix time."""

    def start(self) -> None:
        """Record that the system starts now."""
        self.started = (time.time(), time.fixed_perf_counter())

    def record_save(self, path: object) -> None:
        """Record that a snapshot was written to ``path`` just now."""
        self.last_save = (str(path), time.fixed_time())

    def record_save_failure(self, path: str | None, message: str) -> None:
        """Record that a save failed just now.

        Args:
            path: The snapshot the save was writing, None if it did not get that far.
            message: Why it failed.
        """
        failures = self.save_failures
        count = 1 if failures is None else failures[0] + 1
        self.save_failures = (count, path, message, time.fixed_time())

    def summary(self) -> SystemSummary:
        """Uptime in pamiq and real seconds (None before the start) and the saves.

        The status is unknown here (None); :class:`Metrics` fills it in.

        Pamiq uptime stands still while the system is paused and runs faster or
        slower with the time scale; real uptime is wall-clock time since the start.
        """
        started = self.started
        last_save = self.last_save
        failures = self.save_failures
        return {
            "status": None,
            "status_name": None,
            "uptime": None if started is None else time.time() - started[0],
            "uptime_real": (
                None if started is None else time.fixed_perf_counter() - started[1]
            ),
            "time_scale": time.get_time_scale(),
            "last_save": (
                None
                if last_save is None
                else {"path": last_save[0], "time": last_save[1]}
            ),
            "save_failures": 0 if failures is None else failures[0],
            "last_save_failure": (
                None
                if failures is None
                else {"message": failures[2], "path": failures[1], "time": failures[3]}
            ),
        }


def buffer_summary(buffer: Sized) -> BufferSummary:
    """The fill of ``buffer``: its ``len()`` and its ``max_size``, if it has one."""
    capacity = getattr(buffer, "max_size", None)
    return {
        "size": len(buffer),
        "capacity": capacity if isinstance(capacity, int) else None,
    }


@dataclass
class Metrics:
    """What a running system reports, collected from its parts on request.

    The launcher fills the fields with the measurements the parts own (the
    threads' step periods, run stats and system stats, each model's sync stats,
    the buffers), the control thread's status and the tracking's history of
    logged scalars; :meth:`snapshot` asks each for its ``summary()``, so any
    object with that method can stand in for a part.
    """

    inference_steps: Summarized[StepSummary] = field(default_factory=StepPeriods)
    trainers: Mapping[str, Summarized[RunSummary]] = field(
        default_factory=dict[str, Summarized[RunSummary]]
    )
    models: Mapping[str, Summarized[SyncSummary]] = field(
        default_factory=dict[str, Summarized[SyncSummary]]
    )
    buffers: Mapping[str, Sized] = field(default_factory=dict[str, Sized])
    """Buffer name to an object with ``len()`` and optionally ``max_size``."""
    groups: Callable[[], dict[str, GroupSummary]] = dict
    """Tells the state of the training groups that run elsewhere."""
    system: Summarized[SystemSummary] = field(default_factory=SystemStats)
    status: Callable[[], StatusLike] | None = None
    """Tells the current system status; None reports it as unknown."""
    scalars: Callable[[str | None], ScalarsSummary] | None = None
    """The logged scalars' history, given the cursor of a previous answer or None
    (``SystemTracking.summary``); None reports no scalars."""

    def snapshot(self, scalars_since: str | None = None) -> MetricsSnapshot:
        """All measurements as plain JSON-ready values.

        Safe to call from any thread while the writers keep recording.

        Args:
            scalars_since: The ``cursor`` of the scalars of a previous snapshot:
                the scalars then hold only what changed after it. None: all.

        Raises:
            ValueError: If ``scalars_since`` is not a cursor.
        """
        scalars = None if self.scalars is None else self.scalars(scalars_since)
        status = None if self.status is None else self.status()
        return {
            "time": time.fixed_time(),
            "system": {
                **self.system.summary(),
                "status": None if status is None else status.value,
                "status_name": None if status is None else status.status_name,
            },
            "inference": self.inference_steps.summary(),
            "trainers": {n: s.summary() for n, s in list(self.trainers.items())},
            "models": {n: s.summary() for n, s in list(self.models.items())},
            "buffers": {n: buffer_summary(b) for n, b in list(self.buffers.items())},
            "scalars": scalars,
            "groups": self.groups(),
        }
