"""Every scalar since the system started, bounded and downsampled, for the dashboard."""

import bisect
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import cast

from pamiq_core.metrics import (
    SCALARS_CURSOR_PATTERN,
    ScalarEvent,
    ScalarHistorySummary,
    ScalarSeries,
)

from ._record import ScalarRecord

Point = tuple[int, float, float]
"""``(step, value, wall_time)``."""


class _Series:
    """One series' points, each the mean of ``stride`` consecutive logged values.

    The points are kept as parallel lists (copied in one step each for a summary),
    with the history's revision at which each was completed, so that a reader can
    ask for the points completed after a revision it has seen. When ``max_points``
    points are stored, neighbours are merged pairwise and the stride doubles, so
    the whole history keeps one resolution and a fixed size.
    """

    __slots__ = (
        "changed",
        "latest",
        "pending_count",
        "pending_step",
        "pending_sum",
        "pending_time",
        "revisions",
        "steps",
        "stride",
        "times",
        "values",
    )

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.values: list[float] = []
        self.times: list[float] = []
        self.revisions: list[int] = []
        self.stride = 1
        self.pending_sum = 0.0
        self.pending_count = 0
        self.pending_step = 0
        self.pending_time = 0.0
        self.latest: Point = (0, math.nan, math.nan)
        self.changed = 0
        """The history's revision of the latest value added."""

    def add(
        self, step: int, value: float, wall_time: float, revision: int, max_points: int
    ) -> None:
        self.latest = (step, value, wall_time)
        self.changed = revision
        self.pending_sum += value
        self.pending_count += 1
        self.pending_step = step
        self.pending_time = wall_time
        if self.pending_count < self.stride:
            return
        self.steps.append(step)
        self.values.append(self.pending_sum / self.pending_count)
        self.times.append(wall_time)
        self.revisions.append(revision)
        self.pending_sum, self.pending_count = 0.0, 0
        if len(self.steps) >= max_points:
            self._halve()

    def _halve(self) -> None:
        # An even count (see ScalarHistory), so every merged pair has equal weights.
        # A merged point takes the later one's step, time and revision.
        values = self.values
        self.values = [
            (a + b) / 2 for a, b in zip(values[0::2], values[1::2], strict=True)
        ]
        self.steps = self.steps[1::2]
        self.times = self.times[1::2]
        self.revisions = self.revisions[1::2]
        self.stride *= 2

    def points(self) -> list[Point]:
        """The stored points, plus the partial bucket still being filled."""
        points = list(zip(self.steps, self.values, self.times, strict=True))
        if self.pending_count:
            points.append(
                (
                    self.pending_step,
                    self.pending_sum / self.pending_count,
                    self.pending_time,
                )
            )
        return points

    def copy_after(self, revision: int) -> ScalarSeries:
        """The points completed after ``revision`` and the partial one, as JSON."""
        first = bisect.bisect_right(self.revisions, revision)
        steps = self.steps[first:]
        values: list[float] = self.values[first:]
        times = self.times[first:]
        partial = self.pending_count > 0
        if partial:
            steps.append(self.pending_step)
            values.append(self.pending_sum / self.pending_count)
            times.append(self.pending_time)
        step, value, wall_time = self.latest
        return {
            "latest": {"step": step, "value": _finite(value), "time": wall_time},
            "steps": steps,
            "values": _finite_values(values),
            "times": times,
            "stride": self.stride,
            "partial": partial,
        }


class ScalarHistory:
    """An in-memory history of every series and of the system's events.

    Each series keeps at most ``max_points`` points (older ones merged, see
    :meth:`summary`) and its exact latest value; events (pause, resume, save, ...)
    are kept with their time, the newest ``max_events`` of them.

    Every value added and every event advances the history's revision; a summary
    carries a cursor (this history's identity and its revision), and a summary
    asked for since that cursor holds only what changed after it. A client that
    polls (the dashboard) thus receives each point about once, not the whole
    history on every poll.

    Ownership: the tracking writer thread adds records; any thread may record an
    event or read. One lock guards everything; it is held for a batch of records
    or for copying lists, never while calling out.
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
        self._events: deque[tuple[int, ScalarEvent]] = deque(maxlen=max_events)
        self._revision = 0
        self._identity = secrets.token_hex(6)
        """Tells this history's cursors from another's (a restarted system's)."""

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
            revision = self._revision
            for name, value, step, wall_time in records:
                entry = series.get(name)
                if entry is None:
                    entry = series[name] = _Series()
                revision += 1
                entry.add(step, value, wall_time, revision, max_points)
            self._revision = revision

    def record_event(
        self, kind: str, detail: str | None = None, wall_time: float | None = None
    ) -> None:
        """Remember that ``kind`` (``"pause"``, ``"save"``, ...) happened now.

        Args:
            kind: What happened.
            detail: Free text shown with it (for example the snapshot's path).
            wall_time: When, in seconds since the Unix epoch; default now.
        """
        event: ScalarEvent = {
            "time": time.time() if wall_time is None else wall_time,
            "kind": kind,
            "detail": detail,
        }
        with self._lock:
            self._revision += 1
            self._events.append((self._revision, event))

    def points(self, name: str) -> list[Point]:
        """The downsampled points of series ``name`` (empty if never logged)."""
        with self._lock:
            entry = self._series.get(name)
            return [] if entry is None else entry.points()

    def latest(self, name: str) -> Point | None:
        """The last point logged to series ``name``, exactly, or None."""
        with self._lock:
            entry = self._series.get(name)
            return None if entry is None else entry.latest

    def summary(self, since: str | None = None) -> ScalarHistorySummary:
        """Every series grouped by component, and the events; ready for JSON.

        Shape (see :class:`pamiq_core.metrics.ScalarsSummary`)::

            {"cursor": "3f9a0c1b2d4e:1234", "since": None,
             "groups": {"trainers/dqn": {"loss": {
                 "latest": {"step": 41, "value": 0.12, "time": 1.7e9},
                 "steps": [...], "values": [...], "times": [...],
                 "stride": 1, "partial": False}}},
             "events": [{"time": 1.7e9, "kind": "pause", "detail": None}, ...]}

        A point is the mean of the consecutive values it stands for, at the step
        and time of the last of them. Values that are not finite are ``None``.

        Args:
            since: The ``cursor`` of an earlier summary of this history: only the
                series that changed after it, with the points completed after it
                and the partial one, and the newer events. A cursor of another
                history (a system that has restarted since) or None gives all.

        Raises:
            ValueError: If ``since`` is not a cursor.
        """
        identity, revision = _parse_cursor(since)
        with self._lock:
            if identity != self._identity or revision > self._revision:
                revision, since = 0, None
            copied = [
                (self._group_of(name), entry.copy_after(revision))
                for name, entry in self._series.items()
                if entry.changed > revision
            ]
            events = [event for seen, event in self._events if seen > revision]
            cursor = f"{self._identity}:{self._revision}"
        groups: dict[str, dict[str, ScalarSeries]] = {}
        for (group, metric), series in copied:
            groups.setdefault(group, {})[metric] = series
        return {"cursor": cursor, "since": since, "groups": groups, "events": events}

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


_CURSOR = re.compile(SCALARS_CURSOR_PATTERN)


def _parse_cursor(cursor: str | None) -> tuple[str | None, int]:
    """``(identity, revision)`` of a cursor; ``(None, 0)`` for None."""
    if cursor is None:
        return None, 0
    if not _CURSOR.match(cursor):
        raise ValueError(
            f"{cursor!r} is not a scalar history cursor: pass the 'cursor' of an "
            "earlier answer, such as '3f9a0c1b2d4e:1234'."
        )
    identity, _, revision = cursor.partition(":")
    return identity, int(revision)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _finite_values(values: list[float]) -> list[float | None]:
    """``values`` with None for each value that is not finite (JSON has none)."""
    # One C-level sum finds the usual case, all finite, without a Python loop.
    if math.isfinite(sum(values)):
        return cast("list[float | None]", values)  # a copy already
    return [v if math.isfinite(v) else None for v in values]
