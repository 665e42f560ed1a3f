"""The buffer interface: where a data user keeps the items its trainer learns from."""

import warnings
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.tracking import SystemEventMixin

T = TypeVar("T")
R = TypeVar("R")


class DataBuffer(ABC, PersistentStateMixin, SystemEventMixin, Generic[T, R]):
    """Stores collected items of type ``T`` and hands them to trainers as ``R``.

    Thread ownership: a buffer is touched only by the training thread, through its
    :class:`~pamiq_core.data.DataUser`; it needs no lock of its own. Its system
    hooks (``on_system_start`` / ``on_system_stop``) run before, and after, every
    other component's.
    """

    def __init__(self, max_queue_size: int | None = None) -> None:
        """Set the bound of the collector's pending queue for this buffer.

        Args:
            max_queue_size: How many collected items may wait for the trainer before
                the oldest are dropped; also how many collection timestamps the data
                user remembers. ``None`` means unbounded (a warning is emitted).

        Raises:
            ValueError: If ``max_queue_size`` is negative or zero (a zero-length
                queue would discard every collected item).
        """
        super().__init__()
        if max_queue_size is None:
            warnings.warn(
                "max_queue_size is None: the collector's queue for this buffer is "
                "unbounded, so if the trainer falls behind the agent, pending data "
                "may exhaust memory. Pass a positive max_queue_size to bound it.",
                RuntimeWarning,
                stacklevel=2,
            )
        elif max_queue_size < 0:
            raise ValueError(
                "max_queue_size must be non-negative. "
                f"Got max_queue_size={max_queue_size}."
            )
        elif max_queue_size == 0:
            raise ValueError(
                "max_queue_size must be positive: a zero-length queue would discard "
                "every collected item. Got max_queue_size=0."
            )
        self._max_queue_size = max_queue_size

    @property
    def max_queue_size(self) -> int | None:
        """Bound of the collector's pending queue and of the timestamp window."""
        return self._max_queue_size

    @abstractmethod
    def add(self, data: T) -> None:
        """Store one collected item."""

    @abstractmethod
    def get_data(self) -> R:
        """Return the stored data in the form trainers consume."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of items currently stored."""
