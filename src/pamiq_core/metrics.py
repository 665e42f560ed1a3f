"""Cheap, thread-safe measurements of a running system.

Each measurement has exactly one writer thread, which owns it: the inference thread
records step times, the training thread records training runs and syncs. Any other
thread (the web API, a test) may read a measurement at any time. Writers never take a
lock on the hot path; a reader copies plain Python values, which the interpreter reads
and writes atomically, so a read is a consistent-enough snapshot: at worst it misses
the record being written at that instant.
"""

import math
from dataclasses import dataclass, field
from typing import Any


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``sorted_values`` fall (nearest rank)."""
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(fraction * len(sorted_values)) - 1)
    return sorted_values[rank]


class StepPeriods:
    """Periods between consecutive steps of a loop, over a recent window.

    ``tick(now)`` is called once per step by the loop's own thread; it costs a few
    hundred nanoseconds and never allocates.
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
        """Runs, last and mean duration (seconds), and when the last run ended."""
        runs = self.runs
        return {
            "runs": runs,
            "last_duration": self.last_duration,
            "mean_duration": self.total_duration / runs if runs else math.nan,
            "last_finished_at": self.last_finished_at,
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
        return {
            "syncs": self.syncs,
            "last_sync_duration": self.last_duration,
            "training_version": self.training_version,
            "inference_version": self.inference_version,
        }


@dataclass
class Metrics:
    """What a running system reports, collected from its parts on request.

    The launcher fills the mappings with the measurements the parts own;
    :meth:`snapshot` turns them into a JSON-ready dict.
    """

    inference_steps: StepPeriods = field(default_factory=StepPeriods)
    trainers: dict[str, RunStats] = field(default_factory=lambda: {})
    models: dict[str, SyncStats] = field(default_factory=lambda: {})
    buffers: dict[str, Any] = field(default_factory=lambda: {})
    """Buffer name to an object with ``len()`` and optionally ``max_size``."""

    def snapshot(self) -> dict[str, Any]:
        """All measurements as plain JSON-ready values (NaN becomes None)."""
        return _json_ready(
            {
                "inference": self.inference_steps.summary(),
                "trainers": {n: s.summary() for n, s in self.trainers.items()},
                "models": {n: s.summary() for n, s in self.models.items()},
                "buffers": {
                    name: {
                        "size": len(buffer),
                        "capacity": getattr(buffer, "max_size", None),
                    }
                    for name, buffer in self.buffers.items()
                },
            }
        )


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return value
