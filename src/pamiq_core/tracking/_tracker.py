"""The logging pipeline of one system: queue, writer thread, loggers and history."""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from pamiq_core.metrics import ScalarsSummary, TrackingCounters

from . import _route  # pyright: ignore[reportPrivateUsage]
from ._history import ScalarHistory
from ._logger import RunInfo, TrackingLogger
from ._queue import DroppingQueue
from ._record import HParamsRecord, Record
from ._writer import GuardedLogger, RecordWriter, logger_keys, open_loggers

logger = logging.getLogger(__name__)


def _zero() -> int:
    return 0


DEFAULT_QUEUE_SIZE = 100_000
"""Records that may wait for the writer before new ones are dropped."""


class Tracker:
    """Takes logged scalars off the callers' threads and hands them to the loggers.

    While started, it is the process's active tracker: every ``log_scalar`` call
    (module-level or a component's) appends a record to its bounded queue; a
    background thread hands the records, in batches, to each logger and to the
    in-memory :attr:`history`. ``launch`` starts and stops one for the system; a
    standalone script or a test can run one as a context manager::

        with Tracker([CSVLogger("scalars.csv")]):
            log_scalar("loss", 0.5, step=1)

    Ownership: :meth:`start`, :meth:`stop` and :meth:`flush` belong to the thread
    that runs the system; logging calls may come from any thread.
    """

    def __init__(
        self,
        loggers: Sequence[TrackingLogger] = (),
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        interval: float = 0.5,
        history: ScalarHistory | None = None,
        default_step: Callable[[], int] | None = None,
    ) -> None:
        """Prepare the pipeline; nothing is opened until :meth:`start`.

        Args:
            loggers: Where records go (see :class:`TrackingLogger`).
            queue_size: Records that may wait for the writer; beyond that new
                records are dropped and counted.
            interval: Seconds between the writer's rounds.
            history: The in-memory history to feed (default: a new one).
            default_step: The step of module-level calls that give none
                (default 0); ``launch`` uses the inference step count.

        Raises:
            TypeError: If a logger lacks a method of :class:`TrackingLogger`.
            ValueError: If ``queue_size`` or ``interval`` is not positive.
        """
        for item in loggers:
            if not isinstance(item, TrackingLogger):  # pyright: ignore[reportUnnecessaryIsInstance]
                missing = [
                    m
                    for m in ("open", "write", "log_hparams", "flush", "close")
                    if not callable(getattr(item, m, None))
                ]
                raise TypeError(
                    f"{item!r} is not a tracking logger: it lacks {missing}. A logger "
                    "implements open, write, log_hparams, flush and close (see "
                    "pamiq_core.tracking.TrackingLogger)."
                )
        self.history = history if history is not None else ScalarHistory()
        """Every scalar since :meth:`start`, downsampled, with the events."""
        self._queue: DroppingQueue[Record] = DroppingQueue(queue_size)
        self._loggers = [
            GuardedLogger(item, key)
            for item, key in zip(loggers, logger_keys(loggers), strict=True)
        ]
        self._writer = RecordWriter(
            self._queue, self._loggers, self.history.add, interval=interval
        )
        self._default_step = default_step or _zero
        self._resume_data: dict[str, dict[str, str]] = {}
        self._state = "new"

    @property
    def opened(self) -> bool:
        """Whether :meth:`start` opened the loggers (also true once stopped)."""
        return self._state != "new"

    @property
    def resume_data(self) -> dict[str, dict[str, str]]:
        """What each logger asked to keep for a resumed run, by logger key."""
        return {key: dict(value) for key, value in self._resume_data.items()}

    def start(
        self,
        *,
        resumed_from: Path | None = None,
        resume: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Open every logger, start the writer and become the active tracker.

        Args:
            resumed_from: The snapshot the system loaded, told to the loggers.
            resume: Per logger key, what it returned from ``open`` in the run
                being resumed (see :attr:`resume_data`).

        Raises:
            RuntimeError: If this tracker was started before, or another one is
                active in this process.
            Exception: Whatever a logger's ``open`` raised (the others are closed
                again), with a note naming the logger.
        """
        if self._state != "new":
            raise RuntimeError("A Tracker can be started only once.")
        _route.activate(self, self._queue, self._default_step)
        run = RunInfo(started_at=time.time(), resumed_from=resumed_from)
        try:
            self._resume_data = open_loggers(self._loggers, run, resume or {})
        except BaseException:
            _route.deactivate(self)
            raise
        self._state = "started"
        self._writer.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop routing calls here, write what is queued, close every logger.

        Safe to call more than once and before :meth:`start`.
        """
        if self._state != "started":
            return
        self._state = "stopped"
        _route.deactivate(self)
        if not self._writer.stop(timeout):
            logger.error(
                f"The tracking writer did not finish within {timeout} s (a logger "
                "is stuck?); its loggers are closed anyway."
            )
        for guarded in self._loggers:
            guarded.call("close")

    def feed(self, records: Iterable[Record]) -> int:
        """Queue records made elsewhere (another process), as logging calls do.

        Scalars are ``(name, value, step, wall_time)`` tuples (a
        :class:`ScalarRecord` is one); hyperparameters are :class:`HParamsRecord`.
        Both pickle to a few dozen bytes, so a training process can send its
        records in batches and the system's process feeds them here.

        Returns:
            How many were queued; the others were dropped (queue full) and counted.

        Raises:
            TypeError: For a record of another shape (none of the batch is queued).
        """
        batch = [_checked(record) for record in records]
        put = self._queue.put
        return sum(put(record) for record in batch)

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Write everything logged so far; return whether it was done in time."""
        return self._writer.flush(timeout)

    def record_event(self, kind: str, detail: str | None = None) -> None:
        """Mark ``kind`` (``"pause"``, ``"resume"``, ``"save"``...) in the history now."""
        self.history.record_event(kind, detail)

    def stats(self) -> TrackingCounters:
        """Counters: records written, waiting, dropped, and failures per logger."""
        return {
            "written": self._writer.records_written,
            "queued": len(self._queue),
            "dropped": self._queue.dropped,
            "logger_failures": {g.key: g.failures for g in self._loggers},
        }

    def summary(self, since: str | None = None) -> ScalarsSummary:
        """The history's summary (series by component, events) plus :meth:`stats`.

        Args:
            since: See :meth:`ScalarHistory.summary`.

        Raises:
            ValueError: If ``since`` is not a cursor.
        """
        history = self.history.summary(since)
        return {
            "cursor": history["cursor"],
            "since": history["since"],
            "groups": history["groups"],
            "events": history["events"],
            "stats": self.stats(),
        }

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def active_tracker() -> Tracker | None:
    """The tracker logging calls go to now (the running system's), or None."""
    owner = _route.active_owner()
    return owner if isinstance(owner, Tracker) else None


def record_event(kind: str, detail: str | None = None) -> None:
    """Mark ``kind`` (``"pause"``, ``"save"``...) in the running system's history.

    Does nothing when no tracker is running.
    """
    tracker = active_tracker()
    if tracker is not None:
        tracker.record_event(kind, detail)


def _checked(record: object) -> Record:
    """``record`` if it is a record the writer can take, else a clear error."""
    if isinstance(record, HParamsRecord):
        return record
    if isinstance(record, tuple) and len(record) == 4:  # pyright: ignore[reportUnknownArgumentType]
        name, value, step, wall_time = record  # pyright: ignore[reportUnknownVariableType]
        if (
            isinstance(name, str)
            and isinstance(value, int | float)
            and isinstance(step, int)
            and isinstance(wall_time, int | float)
        ):
            return (name, float(value), step, float(wall_time))
    raise TypeError(
        f"Not a tracking record: {record!r}. Feed (name, value, step, wall_time) "
        "tuples (ScalarRecord) or HParamsRecord."
    )
