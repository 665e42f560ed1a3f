"""The bounded queue between logging calls and the writer: never blocks a producer."""

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DroppingQueue(Generic[T]):
    """A bounded many-producers, one-consumer queue that drops instead of blocking.

    :meth:`put` is what a logging call costs on the caller's thread: one length
    check and one ``deque.append``, both atomic under the interpreter lock, so
    producers take no lock. When the queue holds ``capacity`` items the new item is
    dropped and counted (under a lock, on that rare path only). The bound is soft
    by at most one item per producer thread racing past the check at once.

    Ownership: any thread may :meth:`put`; only the one consumer (the writer) may
    :meth:`take`. The hottest producer (``log_scalar``) inlines :meth:`put`: it
    appends to :attr:`buffer` itself while ``len(buffer) < capacity`` and calls
    :meth:`put` otherwise, so that the drop is counted.
    """

    def __init__(self, capacity: int) -> None:
        """Hold at most ``capacity`` items.

        Raises:
            ValueError: If ``capacity`` is not positive.
        """
        if capacity <= 0:
            raise ValueError(
                f"The tracking queue's capacity must be positive, got {capacity}."
            )
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._dropped = 0
        self._drop_lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """The most items the queue holds."""
        return self._capacity

    @property
    def buffer(self) -> deque[T]:
        """The underlying deque, for an inlined :meth:`put` (see the class)."""
        return self._items

    @property
    def dropped(self) -> int:
        """How many items were dropped because the queue was full."""
        return self._dropped

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> bool:
        """Append ``item``, or drop and count it if the queue is full.

        Returns:
            Whether the item was queued.
        """
        items = self._items
        if len(items) < self._capacity:
            items.append(item)
            return True
        with self._drop_lock:
            self._dropped += 1
        return False

    def take(self, max_items: int) -> list[T]:
        """Remove and return up to ``max_items`` of the oldest items (consumer only)."""
        items = self._items
        popleft = items.popleft
        return [popleft() for _ in range(min(len(items), max_items))]
