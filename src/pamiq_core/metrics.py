"""Cheap, thread-safe measurements of a running system.

Each measurement has exactly one writer thread, which owns it: the inference thread
records step times, the training thread records training runs and syncs, the
control thread records the start and each save. Any other
thread (the web API, a test) may read a measurement at any time. Writers never take a
lock on the hot path; a reader copies plain Python values, which the interpreter reads
and writes atomically, so a read is a consistent-enough snapshot: at worst it misses
the record being written at that instant.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pamiq_core import time

if TYPE_CHECKING:
    from pamiq_core.console.system_status import SystemStatus


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` fall (nearest rank)."""
    if not sorted_values:
        return math.nan
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

    def tick(self, now: float) -> None:
        """Record a step that happened at ``now`` (seconds, any monotonic clock)."""
        self.steps += 1
        previous = self._previous
        self._previous = now
        if previous is None:
            return
        index = self._index
        self._periods[index] = now - previous
        index += 1
        self._index = 0 if index == self._window else index
        if self._filled < self._window:
            self._filled += 1

    def restart(self) -> None:
        """Forget the previous tick, so a pause is not counted as one long period."""
        self._previous = None

    def periods(self) -> list[float]:
        """The recorded periods of the window, in no particular order."""
        return self._periods[: self._filled]

    def summary(self) -> dict[str, float | int]:
        """Steps, steps per second and period statistics (seconds) of the window."""
        periods = sorted(self.periods())
        total = sum(periods)
        return {
            "steps": self.steps,
            "steps_per_second": len(periods) / total if total > 0 else 0.0,
            "period_p50": _percentile(periods, 0.50),
            "period_p99": _percentile(periods, 0.99),
            "period_max": periods[-1] if periods else math.nan,
            "period_mean": total / len(periods) if periods else math.nan,
        }


@dataclass
class RunStats:
    """How often and how long something ran (a trainer's training runs)."""

    runs: int = 0
    total_duration: float = 0.0
    last_duration: float = math.nan
    last_finished_at: float = math.nan

    def record(self, duration: float, finished_at: float) -> None:
        """Record one run of ``duration`` seconds that ended at ``finished_at``."""
        self.last_duration = duration
        self.last_finished_at = finished_at
        self.total_duration += duration
        self.runs += 1

    def summary(self) -> dict[str, float | int]:
        """Runs, last and mean duration, and when the last run ended (seconds).

        ``last_finished_at`` is on the writer's clock (``time.fixed_perf_counter``);
        ``since_last_run`` is the time since then on that clock.
        """
        runs = self.runs
        last_finished_at = self.last_finished_at
        return {
            "runs": runs,
            "last_duration": self.last_duration,
            "mean_duration": self.total_duration / runs if runs else math.nan,
            "last_finished_at": last_finished_at,
            "since_last_run": time.fixed_perf_counter() - last_finished_at,
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

    def record_sync(self, duration: float) -> None:
        """Record a sync that took ``duration`` seconds."""
        self.inference_version = self.training_version
        self.last_duration = duration
        self.syncs += 1

    def summary(self) -> dict[str, float | int]:
        """Sync count, last sync duration (seconds) and both versions."""
        training_version = self.training_version
        inference_version = self.inference_version
        return {
            "syncs": self.syncs,
            "last_sync_duration": self.last_duration,
            "training_version": training_version,
            "inference_version": inference_version,
            "versions_behind": max(0, training_version - inference_version),
        }


class SystemStats:
    """When the system started and what it saved last (written by the control thread).

    Each event is stored as one tuple, replaced in a single assignment, so a reader
    never sees half of one.
    """

    def __init__(self) -> None:
        self.started: tuple[float, float] | None = None
        """Pamiq ``time.time()`` and real ``time.perf_counter()`` at the start."""
        self.last_save: tuple[str, float] | None = None
        """Path of the latest snapshot and when it was written (Unix time)."""
        self.failed_saves = 0
        """How many saves failed."""
        self.last_save_failure: tuple[str | None, str, float] | None = None
        """Path, message and Unix time of the latest failed save."""

    def start(self) -> None:
        """Record that the system starts now."""
        self.started = (time.time(), time.fixed_perf_counter())

    def record_save(self, path: object) -> None:
        """Record that a snapshot was written to ``path`` just now."""
        self.last_save = (str(path), time.fixed_time())

    def record_save_failure(self, path: str | None, message: str) -> None:
        """Record that a save into ``path`` failed just now, saying why."""
        self.last_save_failure = (path, message, time.fixed_time())
        self.failed_saves += 1

    def summary(self) -> dict[str, Any]:
        """Uptime in pamiq and real seconds (None before the start) and the last save.

        Pamiq uptime stands still while the system is paused and runs faster or
        slower with the time scale; real uptime is wall-clock time since the start.
        """
        started = self.started
        last_save = self.last_save
        return {
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
        }


@dataclass
class Metrics:
    """What a running system reports, collected from its parts on request.

    The launcher fills the fields with the measurements the parts own (the
    threads' step periods, run stats and system stats, each model's sync stats,
    the buffers) and the control thread's status; :meth:`snapshot` turns them into
    the JSON-ready dict that ``GET /api/metrics`` serves.
    """

    inference_steps: StepPeriods = field(default_factory=StepPeriods)
    trainers: dict[str, RunStats] = field(default_factory=lambda: {})
    models: dict[str, SyncStats] = field(default_factory=lambda: {})
    buffers: dict[str, Any] = field(default_factory=lambda: {})
    """Buffer name to an object with ``len()`` and optionally ``max_size``."""
    system: SystemStats = field(default_factory=SystemStats)
    status: "Callable[[], SystemStatus] | None" = None
    """Tells the current system status; None reports it as unknown."""

    def snapshot(self) -> dict[str, Any]:
        """All measurements as plain JSON-ready values (NaN becomes None).

        Safe to call from any thread while the writers keep recording.
        """
        status = None if self.status is None else self.status()
        system: dict[str, Any] = {
            "status": None if status is None else status.value,
            "status_name": None if status is None else status.status_name,
            **self.system.summary(),
        }
        return _json_ready(
            {
                "time": time.fixed_time(),
                "system": system,
                "inference": self.inference_steps.summary(),
                "trainers": {n: s.summary() for n, s in list(self.trainers.items())},
                "models": {n: s.summary() for n, s in list(self.models.items())},
                "buffers": {
                    name: {
                        "size": len(buffer),
                        "capacity": getattr(buffer, "max_size", None),
                    }
                    for name, buffer in list(self.buffers.items())
                },
            }
        )


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value
