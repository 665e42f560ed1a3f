"""Every scalar since the system started, bounded and downsampled, for the dashboard."""

import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from ._record import ScalarRecord

Point = tuple[int, float, float]
"""``(step, value, wall_time)``."""


class _Series:
    """One series' points, each the mean of ``stride`` consecutive logged values.

    When ``max_points`` points are stored, neighbours are merged pairwise and the
    stride doubles, so the whole history keeps one resolution and a fixed size.
    """

    __slots__ = (
        "latest",
        "pending_count",
        "pending_step",
        "pending_sum",
        "pending_time",
        "points",
        "stride",
    )

    def __init__(self) -> None:
        self.points: list[Point] = []
        self.stride = 1
        self.pending_sum = 0.0
        self.pending_count = 0
        self.pending_step = 0
        self.pending_time = 0.0
        self.latest: Point = (0, math.nan, math.nan)

    def add(self, step: int, value: float, wall_time: float, max_points: int) -> None:
        self.latest = (step, value, wall_time)
        self.pending_sum += value
        self.pending_count += 1
        self.pending_step = step
        self.pending_time = wall_time
        if self.pending_count < self.stride:
            return
        self.points.append((step, self.pending_sum / self.pending_count, wall_time))
        self.pending_sum, self.pending_count = 0.0, 0
        if len(self.points) >= max_points:
            self._halve()

    def _halve(self) -> None:
        points = self.points
        # An even count (see ScalarHistory), so every merged pair has equal weights.
        self.points = [
            (later[0], (earlier[1] + later[1]) / 2, later[2])
            for earlier, later in zip(points[0::2], points[1::2], strict=True)
        ]
        self.stride *= 2

    def snapshot(self) -> list[Point]:
        """The stored points, plus the partial bucket still being filled."""
        points = list(self.points)
        if self.pending_count:
            points.append(
                (
                    self.pending_step,
                    self.pending_sum / self.pending_count,
                    self.pending_time,
                )
            )
        return points


class ScalarHistory:
    """An in-memory history of every series and of the system's events.

    Each series keeps at most ``max_points`` points (older ones merged, see
    :meth:`summary`) and its exact latest value; events (pause, resume, save, ...)
    are kept with their time, the newest ``max_events`` of them.

    Ownership: the tracking writer thread adds records; any thread may record an
    event or read. One lock guards everything; it is held for a batch of records
    or a copy, never while calling out.
    """

    def __init__(self, max_points: int = 500, max_events: int = 1000) -> None:
        """Keep at most ``max_points`` points per series and ``max_events`` events.

        An odd ``max_points`` is rounded down to an even number, so that halving a
        full series always merges pairs of equal weight.

        Raises:
            ValueError: If ``max_points`` is below 2 or ``max_events`` below 1.
        """
        if max_points < 2:
            raise ValueError(
                f"max_points must be at least 2 (to merge pairs), got {max_points}."
            )
        if max_events < 1:
            raise ValueError(f"max_events must be positive, got {max_events}.")
        self._max_points = max_points - max_points % 2
        self._lock = threading.Lock()
        self._series: dict[str, _Series] = {}
        self._groups: dict[str, tuple[str, str]] = {}
        self._namespaces: list[str] = []
        self._events: deque[dict[str, Any]] = deque(maxlen=max_events)

    def set_namespaces(self, namespaces: Iterable[str]) -> None:
        """Group series by these component namespaces (e.g. ``trainers/dqn``).

        A series belongs to the longest namespace its name starts with, followed
        by ``/``; a series under none is grouped by its name up to the last ``/``.
        """
        ordered = sorted({n.strip("/") for n in namespaces if n.strip("/")}, key=len)
        with self._lock:
            self._namespaces = ordered[::-1]
            self._groups.clear()

    def add(self, records: Iterable[ScalarRecord]) -> None:
        """Add records, in the order they were logged."""
        max_points = self._max_points
        with self._lock:
            series = self._series
            for name, value, step, wall_time in records:
                entry = series.get(name)
                if entry is None:
                    entry = series[name] = _Series()
                entry.add(step, value, wall_time, max_points)

    def record_event(
        self, kind: str, detail: str | None = None, wall_time: float | None = None
    ) -> None:
        """Remember that ``kind`` (``"pause"``, ``"save"``, ...) happened now.

        Args:
            kind: What happened.
            detail: Free text shown with it (for example the snapshot's path).
            wall_time: When, in seconds since the Unix epoch; default now.
        """
        event: dict[str, Any] = {
            "time": time.time() if wall_time is None else wall_time,
            "kind": kind,
        }
        if detail is not None:
            event["detail"] = detail
        with self._lock:
            self._events.append(event)

    def points(self, name: str) -> list[Point]:
        """The downsampled points of series ``name`` (empty if never logged)."""
        with self._lock:
            entry = self._series.get(name)
            return [] if entry is None else entry.snapshot()

    def latest(self, name: str) -> Point | None:
        """The last point logged to series ``name``, exactly, or None."""
        with self._lock:
            entry = self._series.get(name)
            return None if entry is None else entry.latest

    def summary(self) -> dict[str, Any]:
        """Every series grouped by component, and the events; ready for JSON.

        Shape::

            {"groups": {"trainers/dqn": {"loss": {
                 "latest": {"step": 41, "value": 0.12, "time": 1.7e9},
                 "points": [[step, value, time], ...]}}},
             "events": [{"time": 1.7e9, "kind": "pause"}, ...]}

        A point is the mean of the consecutive values it stands for, at the step
        and time of the last of them. Values that are not finite are ``None``.
        """
        with self._lock:
            copied = [
                (name, s.latest, s.snapshot()) for name, s in self._series.items()
            ]
            events = list(self._events)
            groups_of = [self._group_of(name) for name, _, _ in copied]
        groups: dict[str, dict[str, Any]] = {}
        for (_, latest, points), (group, metric) in zip(copied, groups_of, strict=True):
            step, value, wall_time = latest
            groups.setdefault(group, {})[metric] = {
                "latest": {"step": step, "value": _finite(value), "time": wall_time},
                "points": [[s, _finite(v), t] for s, v, t in points],
            }
        return {"groups": groups, "events": events}

    def _group_of(self, name: str) -> tuple[str, str]:
        """``(group, metric)`` of a series; called with the lock held."""
        found = self._groups.get(name)
        if found is not None:
            return found
        for namespace in self._namespaces:
            if name.startswith(namespace + "/"):
                found = (namespace, name[len(namespace) + 1 :])
                break
        else:
            group, _, metric = name.rpartition("/")
            found = (group, metric)
        self._groups[name] = found
        return found


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
