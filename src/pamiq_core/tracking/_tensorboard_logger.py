"""A logger that writes TensorBoard event files (the ``tensorboard`` extra)."""

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._logger import RunInfo
from ._record import HParamValue, ScalarRecord

if TYPE_CHECKING:
    from tensorboardX.event_file_writer import EventsWriter

logger = logging.getLogger(__name__)

_MISSING = "TensorBoardLogger needs tensorboardX: pip install 'pamiq-core[tensorboard]'"


class TensorBoardLogger:
    """Writes every scalar to a TensorBoard event file in ``log_dir``.

    View with ``tensorboard --logdir <log_dir>``. Each start of the system adds a
    new event file to the same folder; TensorBoard merges them, and a resumed
    system's steps continue where the snapshot left them, so the curves continue.
    Hyperparameters appear in TensorBoard's HPARAMS tab: those logged before the
    first flush after them (log them at start) form the run's one session.

    Uses tensorboardX's event writer synchronously: the tracking writer thread is
    already off the agent's time, so no second thread is needed. Installing the
    ``crc32c`` package lets tensorboardX checksum records natively (about four times
    the throughput, see ``benchmarks/metrics.py``).
    """

    def __init__(self, log_dir: str | Path) -> None:
        """Write event files into ``log_dir`` (created at open).

        Raises:
            ImportError: If tensorboardX is not installed.
        """
        try:
            import tensorboardX  # noqa: F401, PLC0415  # pyright: ignore[reportUnusedImport]
        except ImportError as e:
            raise ImportError(_MISSING) from e
        self.log_dir = Path(log_dir)
        self._events: EventsWriter | None = None
        self._hparams: dict[str, HParamValue] = {}
        self._session_written = False
        self._warned = False

    def open(self, run: RunInfo) -> None:
        """Create ``log_dir`` and a new event file in it."""
        from tensorboardX.event_file_writer import EventsWriter  # noqa: PLC0415

        self.log_dir.mkdir(parents=True, exist_ok=True)
        # tensorboardX names files by the second, and TensorBoard reads a folder's
        # files in name order: a nanosecond suffix keeps two starts within one
        # second (a quick resume) apart and in order.
        suffix = f".{time.time_ns():020d}.{os.getpid()}"
        self._events = EventsWriter(str(self.log_dir / "events"), suffix)

    def write(self, records: Sequence[ScalarRecord]) -> None:
        """Write the records; consecutive records of one step share an event.

        An event file stores one wall time per event, so such records show the
        first one's: they were logged within the same step, microseconds apart.
        """
        from tensorboardX.proto.event_pb2 import Event  # noqa: PLC0415
        from tensorboardX.proto.summary_pb2 import Summary  # noqa: PLC0415

        events = self._opened()
        group: list[Summary.Value] = []
        step, wall_time = 0, 0.0
        for name, value, record_step, record_time in records:
            if group and record_step != step:
                summary = Summary(value=group)
                events.write_event(
                    Event(wall_time=wall_time, step=step, summary=summary)
                )
                group = []
            if not group:
                step, wall_time = record_step, record_time
            group.append(Summary.Value(tag=name, simple_value=value))
        if group:
            summary = Summary(value=group)
            events.write_event(Event(wall_time=wall_time, step=step, summary=summary))

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        """Collect hyperparameters; the next :meth:`flush` writes them as one session.

        TensorBoard keeps the first hparams session of a run and ignores later
        ones, so hyperparameters logged after that flush (or, for a resumed run,
        already present in the folder) do not reach its HPARAMS tab; the first such
        call logs a warning. Log them at start, for example in ``on_system_start``.
        """
        self._opened()
        if self._session_written:
            if not self._warned:
                self._warned = True
                logger.warning(
                    f"TensorBoardLogger('{self.log_dir}'): hyperparameters "
                    f"{sorted(hparams)} came after this run's hparams session was "
                    "written; TensorBoard shows only the first session of a run."
                )
            return
        self._hparams.update(hparams)

    def flush(self) -> None:
        """Write the pending hparams session, if any; flush the event file."""
        events = self._opened()
        if self._hparams and not self._session_written:
            from tensorboardX.proto.event_pb2 import Event  # noqa: PLC0415
            from tensorboardX.summary import hparams as hparams_summaries  # noqa: PLC0415

            now = time.time()
            experiment, session_start, _ = hparams_summaries(dict(self._hparams), {})
            for summary in (experiment, session_start):
                events.write_event(Event(wall_time=now, summary=summary))
            self._session_written = True
        events.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if self._events is not None:
            self.flush()
            self._events.close()
            self._events = None

    def _opened(self) -> "EventsWriter":
        if self._events is None:
            raise RuntimeError(f"TensorBoardLogger('{self.log_dir}') is not open.")
        return self._events
