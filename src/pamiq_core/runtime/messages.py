"""What crosses between the launching process and a training process.

Two one-way-per-direction channels per training process:

- the **control** connection (duplex): commands to the training process, and its
  acknowledgements, telemetry, log records, parameter updates of models without a
  shared-memory path, and errors back;
- the **data** connection (to the training process only): batches of collected
  items, in collection order, with their timestamps, and flush markers.

Torch parameters take a third path, shared memory (see
:mod:`pamiq_core.torch._shared`), signalled through it, not through these messages.
"""

from dataclasses import dataclass, field
from typing import Any

# ---- commands: launching process -> training process -------------------------


@dataclass(frozen=True)
class Pause:
    """Pause after the running training run and acknowledge ``request``."""

    request: int


@dataclass(frozen=True)
class Resume:
    """Resume, reading pamiq time as ``clock`` (a ``time.ClockMirror``) says."""

    clock: Any


@dataclass(frozen=True)
class Save:
    """Save the group's items of one part into the directory ``path``.

    Attributes:
        path: The part's directory in the snapshot being written (it exists).
        part: ``"models"``, ``"data"`` or ``"trainers"``.
        marker: For ``"data"``: save once the data batches up to this flush
            marker have arrived.
    """

    path: str
    part: str
    marker: int


@dataclass(frozen=True)
class Stop:
    """Stop training for good; stay to answer a final :class:`Save`."""


@dataclass(frozen=True)
class Exit:
    """Leave the process."""


# ---- answers and reports: training process -> launching process ----------------


@dataclass(frozen=True)
class Ready:
    """The payload was received and unpacked; the trainers are about to run."""


@dataclass(frozen=True)
class Paused:
    """Every trainer of the group is paused for pause request ``request``."""

    request: int


@dataclass(frozen=True)
class Saved:
    """The answer to :class:`Save`: None, or why the save failed."""

    error: BaseException | None


@dataclass(frozen=True)
class Stopped:
    """Training has stopped (after :class:`Stop`)."""


@dataclass(frozen=True)
class Failed:
    """A trainer (or the process's own code) raised; the original error.

    Attributes:
        error: The exception, or None if it could not be pickled.
        description: ``repr`` of the exception, for when it could not be pickled.
        traceback: The formatted traceback from the training process.
    """

    error: BaseException | None
    description: str
    traceback: str


@dataclass(frozen=True)
class Telemetry:
    """Measurements of the group, sent a few times a second and before stopping.

    Attributes:
        runs: Per trainer, the fields of its :class:`~pamiq_core.metrics.RunStats`.
        syncs: Per model, the fields of its :class:`~pamiq_core.metrics.SyncStats`.
        buffers: Per buffer, its length.
        received: Items received over the data connection so far.
    """

    runs: dict[str, dict[str, Any]] = field(default_factory=lambda: {})
    syncs: dict[str, dict[str, Any]] = field(default_factory=lambda: {})
    buffers: dict[str, int] = field(default_factory=lambda: {})
    received: int = 0


@dataclass(frozen=True)
class ModelUpdate:
    """A training model without a shared-memory path, pickled after a sync."""

    name: str
    payload: bytes


@dataclass(frozen=True)
class ParameterUpdate:
    """Ray mode: the parameters of a sync, in Ray's object store.

    Attributes:
        name: The training model.
        version: The sync's number.
        ref: The object holding them (or, when small, them): for a torch model,
            its tensors as bytes (see ``TorchTrainingModel._export_parameters``);
            for another model, the pickled model.
        synced_at: When the sync happened (Unix time), to measure the delay.
        nbytes: Their size.
    """

    name: str
    version: int
    ref: Any
    synced_at: float
    nbytes: int


@dataclass(frozen=True)
class TrackingRecords:
    """Scalars and hyperparameters the group's components logged, in order."""

    records: list[Any]


@dataclass(frozen=True)
class LogRecord:
    """A log record of the training process, to be handled in the launcher's."""

    record: Any


# ---- data: launching process -> training process -------------------------------


@dataclass(frozen=True)
class DataBatch:
    """Collected items per buffer, oldest first, and the flush marker reached.

    Attributes:
        items: Per buffer, the items and the pamiq times they were collected.
        marker: The latest flush marker sent with or before this batch.
    """

    items: dict[str, tuple[list[Any], list[float]]]
    marker: int
