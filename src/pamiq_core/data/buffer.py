"""The buffer interface: where a data user keeps the items its trainer learns from."""

import warnings
from abc import ABC, abstractmethod
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, Generic, TypeVar, cast

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.tracking import SystemEventMixin
from pamiq_core.utils.init_check import InitChecked

T = TypeVar("T")
R = TypeVar("R")


class DataBuffer(
    ABC, PersistentStateMixin, SystemEventMixin, InitChecked, Generic[T, R]
):
    """Stores collected items of type ``T`` and hands them to trainers as ``R``.

    Thread ownership: a buffer is touched only by the training thread, through its
    :class:`~pamiq_core.data.DataUser`; it needs no lock of its own. The one
    exception is :meth:`item_keys`, asked once when the data user is created. Its
    system hooks (``on_system_start`` / ``on_system_stop``) run before, and after,
    every other component's.
    """

    _init_marker: ClassVar[str | None] = "_max_queue_size"

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

    def item_keys(self) -> AbstractSet[str] | None:
        """The keys every item must have, if items are dicts with fixed keys.

        When it returns a set, the collector checks each item against it as the
        agent calls ``collect()``, so a wrong item fails there, naming this buffer,
        rather than later in the training thread. ``None`` accepts any item.

        Asked once, when a :class:`~pamiq_core.data.DataUser` is created. By
        default, a buffer with a ``keys`` attribute that is a set (as the dict
        buffers of :mod:`pamiq_core.data.impls` have) expects those keys; override
        this method to declare keys otherwise, or to return ``None``.
        """
        keys = getattr(self, "keys", None)
        if isinstance(keys, AbstractSet):
            return frozenset(cast(AbstractSet[Any], keys))
        return None

    @abstractmethod
    def add(self, data: T) -> None:
        """Store one collected item."""

    @abstractmethod
    def get_data(self) -> R:
        """Return the stored data in the form trainers consume."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of items currently stored."""
