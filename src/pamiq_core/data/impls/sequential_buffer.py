"""Buffers that keep the newest items in the order they arrived."""

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pamiq_core.data.buffer import DataBuffer
from pamiq_core.state_persistence import load_pickle, save_pickle

from ._keyed import KeyedBuffer

T = TypeVar("T")


def _check_max_size(max_size: int) -> None:
    if max_size < 0:
        raise ValueError(
            "max_queue_size must be non-negative. max_size is also the queue size; "
            f"got max_size={max_size}."
        )
    if max_size == 0:
        raise ValueError(
            "max_size must be positive: a buffer that holds nothing would discard "
            "every item. Got max_size=0."
        )


class SequentialBuffer(DataBuffer[T, list[T]]):
    """A FIFO window of the newest ``max_size`` items, in arrival order.

    ``max_queue_size`` equals ``max_size``. Touched only by the training thread.
    """

    def __init__(self, max_size: int) -> None:
        """Keep at most ``max_size`` items, dropping the oldest when full.

        Raises:
            ValueError: If ``max_size`` is not positive.
        """
        _check_max_size(max_size)
        super().__init__(max_queue_size=max_size)
        self._max_size = max_size
        self._queue: deque[T] = deque(maxlen=max_size)

    @property
    def max_size(self) -> int:
        """How many items the buffer keeps."""
        return self._max_size

    def add(self, data: T) -> None:
        """Append ``data``, dropping the oldest item if full."""
        self._queue.append(data)

    def get_data(self) -> list[T]:
        """A new list of the stored items, oldest first."""
        return list(self._queue)

    def __len__(self) -> int:
        return len(self._queue)

    def save_state(self, path: Path) -> None:
        """Pickle the internal deque to ``path.with_suffix(".pkl")``."""
        save_pickle(self._queue, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        """Load the items saved at ``path``; if there are too many, keep the newest."""
        self._queue = deque(
            load_pickle(path.with_suffix(".pkl")), maxlen=self._max_size
        )


class DictSequentialBuffer(KeyedBuffer[T]):
    """A :class:`SequentialBuffer` of items that are dicts with a fixed set of keys.

    ``get_data`` gives each key's values oldest first. Each item is copied on
    ``add``, so a caller that reuses one dict per step never changes stored data.
    """

    def __init__(self, keys: Iterable[str], max_size: int) -> None:
        """Keep at most ``max_size`` items, each with exactly ``keys``.

        Raises:
            ValueError: If ``max_size`` is not positive.
        """
        super().__init__(keys, SequentialBuffer[dict[str, T]](max_size))
