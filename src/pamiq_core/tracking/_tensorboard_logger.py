"""A logger that writes TensorBoard event files (the ``tensorboard`` extra)."""

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._logger import RunInfo
from ._record import HParamValue, ScalarRecord

if TYPE_CHECKING:
    from tensorboardX.event_file_writer import EventsWriter

_MISSING = "TensorBoardLogger needs tensorboardX: pip install 'pamiq-core[tensorboard]'"


class TensorBoardLogger:
    """Writes every scalar to a TensorBoard event file in ``log_dir``.

    View with ``tensorboard --logdir <log_dir>``. Each start of the system adds a
    new event file to the same folder; TensorBoard merges them, and a resumed
    system's steps continue where the snapshot left them, so the curves continue.
    Hyperparameters appear in TensorBoard's HPARAMS tab (all of those logged so
    far, as one session of this run).

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

    def open(self, run: RunInfo) -> None:
        """Create ``log_dir`` and a new event file in it."""
        from tensorboardX.event_file_writer import EventsWriter  # noqa: PLC0415

        self.log_dir.mkdir(parents=True, exist_ok=True)
        # tensorboardX names files by the second; a unique suffix keeps two starts
        # within one second (a quick resume) from overwriting each other's file.
        suffix = f".{os.getpid()}.{uuid.uuid4().hex[:8]}"
        self._events = EventsWriter(str(self.log_dir / "events"), suffix)

    def write(self, records: Sequence[ScalarRecord]) -> None:
        """Write the records; values logged together (one step, one time) share an event."""
        from tensorboardX.proto.event_pb2 import Event  # noqa: PLC0415
        from tensorboardX.proto.summary_pb2 import Summary  # noqa: PLC0415

        events = self._opened()
        group: list[Summary.Value] = []
        step, wall_time = 0, 0.0
        for name, value, record_step, record_time in records:
            if group and (record_step != step or record_time != wall_time):
                summary = Summary(value=group)
                events.write_event(
                    Event(wall_time=wall_time, step=step, summary=summary)
                )
                group = []
            step, wall_time = record_step, record_time
            group.append(Summary.Value(tag=name, simple_value=value))
        if group:
            summary = Summary(value=group)
            events.write_event(Event(wall_time=wall_time, step=step, summary=summary))

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        """Write every hyperparameter logged so far as this run's hparams session."""
        from tensorboardX.proto.event_pb2 import Event  # noqa: PLC0415
        from tensorboardX.summary import hparams as hparams_summaries  # noqa: PLC0415

        events = self._opened()
        self._hparams.update(hparams)
        now = time.time()
        experiment, session_start, _ = hparams_summaries(dict(self._hparams), {})
        for summary in (experiment, session_start):
            events.write_event(Event(wall_time=now, summary=summary))

    def flush(self) -> None:
        """Flush the event file."""
        self._opened().flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if self._events is not None:
            self._events.close()
            self._events = None

    def _opened(self) -> "EventsWriter":
        if self._events is None:
            raise RuntimeError(f"TensorBoardLogger('{self.log_dir}') is not open.")
        return self._events
