"""The background thread that hands queued records to the loggers, in batches."""

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._logger import RunInfo, TrackingLogger
from ._queue import DroppingQueue
from ._record import HParamsRecord, Record, ScalarRecord

logger = logging.getLogger(__name__)


class GuardedLogger:
    """One logger, called so that its failures never reach the caller.

    The first failure of each method is logged with its traceback; every failure
    is counted. The logger is still called afterwards: a logger that recovers (a
    server back online) goes on receiving records.

    Ownership: the writer thread, or the thread that starts or stops the tracker
    while the writer is not running.
    """

    def __init__(self, wrapped: TrackingLogger, key: str) -> None:
        self.wrapped = wrapped
        self.key = key
        """Stable name of this logger in saved state and statistics."""
        self.failures = 0
        self._reported: set[str] = set()

    def call(self, method: str, *args: Any) -> Any:
        """Call ``wrapped.<method>(*args)``; on an exception log it once and count."""
        try:
            return getattr(self.wrapped, method)(*args)
        except Exception:
            self.failures += 1
            if method not in self._reported:
                self._reported.add(method)
                logger.exception(
                    f"Logger {self.key} failed in {method}(); the system goes on "
                    "and later failures of this method are only counted."
                )
            return None


def logger_keys(loggers: Sequence[TrackingLogger]) -> list[str]:
    """Stable names for loggers: the class name, suffixed ``-2``, ``-3``, ... if repeated."""
    seen: dict[str, int] = {}
    keys: list[str] = []
    for item in loggers:
        name = type(item).__name__
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return keys


class RecordWriter:
    """Drains a queue every ``interval`` seconds into loggers and a history callback.

    Records reach each logger in the order they were logged: consecutive scalars as
    one :meth:`~TrackingLogger.write` of at most ``batch_size``, hyperparameters as
    one :meth:`~TrackingLogger.log_hparams`; each non-empty round ends with a
    :meth:`~TrackingLogger.flush`. :meth:`flush` drains at once and waits;
    :meth:`stop` drains everything, then ends the thread.

    Ownership: the writer thread is the queue's only consumer and the only caller
    of the loggers between :meth:`start` and :meth:`stop`. The counters are written
    by it alone and may be read from anywhere.
    """

    def __init__(
        self,
        queue: DroppingQueue[Record],
        loggers: Sequence[GuardedLogger],
        on_scalars: Callable[[Sequence[ScalarRecord]], None],
        *,
        interval: float = 0.5,
        batch_size: int = 1000,
    ) -> None:
        """Feed ``loggers`` and ``on_scalars`` from ``queue`` once started.

        Raises:
            ValueError: If ``interval`` or ``batch_size`` is not positive.
        """
        if not interval > 0:
            raise ValueError(f"The writer's interval must be positive, got {interval}.")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}.")
        self._queue = queue
        self._loggers = list(loggers)
        self._on_scalars = on_scalars
        self._interval = interval
        self._batch_size = batch_size
        self._condition = threading.Condition()
        self._requested = 0  # flush requests made; guarded by _condition
        self._completed = 0  # flush requests served; guarded by _condition
        self._stopping = False
        self._finished = False  # the thread has ended; guarded by _condition
        self._thread: threading.Thread | None = None
        self.records_written = 0
        """Scalar records handed to the loggers (and the history) so far."""

    def start(self) -> None:
        """Start the writer thread.

        Raises:
            RuntimeError: If it was started before.
        """
        if self._thread is not None:
            raise RuntimeError("The tracking writer can be started only once.")
        # A daemon, so that a program that never calls stop() can still exit;
        # stop() is what writes the last records.
        self._thread = threading.Thread(
            target=self._run, name="pamiq-tracking-writer", daemon=True
        )
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued before this call; wait until it is written.

        Returns:
            Whether it was written within ``timeout`` seconds (True at once if
            the writer is not running).
        """
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        with self._condition:
            self._requested += 1
            target = self._requested
            self._condition.notify_all()
            return self._condition.wait_for(
                lambda: self._completed >= target or self._finished, timeout=timeout
            )

    def stop(self, timeout: float | None = None) -> bool:
        """Write everything still queued, then end the thread.

        Returns:
            Whether the thread ended within ``timeout`` seconds.
        """
        thread = self._thread
        if thread is None:
            return True
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        condition = self._condition
        try:
            while True:
                with condition:
                    condition.wait_for(
                        lambda: self._stopping or self._requested > self._completed,
                        timeout=self._interval,
                    )
                    target, stopping = self._requested, self._stopping
                try:
                    self.write_pending()
                except Exception:
                    # A bug here (loggers are guarded already) must not end the
                    # thread: the queue would fill and every later record be lost.
                    logger.exception("The tracking writer failed on a batch.")
                with condition:
                    self._completed = target
                    condition.notify_all()
                if stopping:
                    return
        finally:
            # Should the thread die of a bug, no flush() may wait for it forever.
            with condition:
                self._finished = True
                condition.notify_all()

    def write_pending(self) -> None:
        """Hand every queued record to the loggers (writer thread, or when stopped)."""
        wrote = False
        while True:
            records = self._queue.take(self._batch_size)
            if not records:
                break
            wrote = True
            for batch in _runs(records):
                if isinstance(batch, HParamsRecord):
                    for guarded in self._loggers:
                        guarded.call("log_hparams", batch.hparams)
                    continue
                self._on_scalars(batch)
                for guarded in self._loggers:
                    guarded.call("write", batch)
                self.records_written += len(batch)
        if wrote:
            for guarded in self._loggers:
                guarded.call("flush")


def _runs(records: Iterable[Record]) -> Iterable[list[ScalarRecord] | HParamsRecord]:
    """Split records into runs of consecutive scalars and of consecutive hparams.

    Queued scalars are plain tuples; here they become :class:`ScalarRecord`.
    """
    make = ScalarRecord._make
    scalars: list[ScalarRecord] = []
    hparams: HParamsRecord | None = None
    for record in records:
        if isinstance(record, HParamsRecord):
            if scalars:
                yield scalars
                scalars = []
            # Consecutive hparams (each component's, at start) merge into one call.
            hparams = (
                record
                if hparams is None
                else HParamsRecord(hparams.hparams | record.hparams, record.wall_time)
            )
        else:
            if hparams is not None:
                yield hparams
                hparams = None
            scalars.append(make(record))
    if scalars:
        yield scalars
    if hparams is not None:
        yield hparams


def open_loggers(
    loggers: Sequence[GuardedLogger],
    run: RunInfo,
    resume: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, str]]:
    """Open each logger with its own resume data; return what each asked to keep.

    A logger that fails to open raises: the system must not start half-configured.
    Loggers opened before it are closed first.
    """
    kept: dict[str, dict[str, str]] = {}
    opened: list[GuardedLogger] = []
    for guarded in loggers:
        info = RunInfo(
            run.started_at, run.resumed_from, dict(resume.get(guarded.key, {}))
        )
        try:
            returned = guarded.wrapped.open(info)
        except Exception as e:
            for other in reversed(opened):
                other.call("close")
            e.add_note(f"(while opening the tracking logger {guarded.key})")
            raise
        opened.append(guarded)
        if returned:
            kept[guarded.key] = {str(k): str(v) for k, v in returned.items()}
    return kept
