"""The protocol every experiment logger implements, and what it is told about the run."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._record import HParamValue, ScalarRecord


@dataclass(frozen=True)
class RunInfo:
    """What a logger learns about the run when it is opened.

    Attributes:
        started_at: When the system started, in seconds since the Unix epoch.
        resumed_from: The snapshot the system loaded, or None for a fresh run.
        resume: What this logger's :meth:`~TrackingLogger.open` returned in the run
            that saved ``resumed_from`` (for example an MLflow run id), so that it
            can continue that run; empty for a fresh run or a logger that returned
            nothing.
    """

    started_at: float
    resumed_from: Path | None = None
    resume: Mapping[str, str] = field(default_factory=dict[str, str])


@runtime_checkable
class TrackingLogger(Protocol):
    """Where logged scalars and hyperparameters go: TensorBoard, CSV, MLflow, yours.

    The system calls these methods one at a time, never concurrently: ``open``
    once when it starts, then ``write``, ``log_hparams`` and ``flush`` from its
    background writer thread, and ``close`` once when it stops. A method that
    raises (other than ``open``) is logged once and counted; the system and the
    other loggers go on.
    """

    def open(self, run: RunInfo) -> Mapping[str, str] | None:
        """Prepare to write (create files, start a run).

        Returns:
            What to keep in the system's saved state so that a resumed system can
            continue this run (handed back as ``run.resume``), or None.
        """
        ...

    def write(self, records: Sequence[ScalarRecord]) -> None:
        """Store a batch of records, in the order they were logged."""
        ...

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        """Store the run's configuration (flat ``/``-separated names)."""
        ...

    def flush(self) -> None:
        """Make what was written so far visible to readers."""
        ...

    def close(self) -> None:
        """Flush and release everything; no call follows."""
        ...
