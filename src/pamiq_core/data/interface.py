"""The two ends of a data path: collectors (agents' side) and users (trainers' side).

An agent calls :meth:`DataCollector.collect` from the inference thread; each item waits
in the collector's queue with the time it was collected. The trainer's
:class:`DataUser` moves everything waiting into its buffer when it updates.
"""

import threading
from collections import deque
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from itertools import islice
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pamiq_core import time
from pamiq_core.state_persistence import (
    PersistentStateMixin,
    load_pickle,
    save_pickle,
)
from pamiq_core.utils.naming import close_matches, quoted

from .buffer import DataBuffer

T = TypeVar("T")
R = TypeVar("R")


class TimestampingQueue(Generic[T]):
    """A bounded FIFO of items, each stamped with the pamiq time it was appended.

    When full, appending drops the oldest item. Not locked by itself: the owning
    :class:`DataCollector` guards it.
    """

    def __init__(self, max_len: int | None = None) -> None:
        """Create an empty queue holding at most ``max_len`` items (``None``: no bound)."""
        self._items: deque[T] = deque(maxlen=max_len)
        self._timestamps: deque[float] = deque(maxlen=max_len)

    def append(self, data: T) -> None:
        """Add ``data`` stamped with the current pamiq time."""
        self._items.append(data)
        self._timestamps.append(time.time())

    def _extend_stamped(self, items: list[T], timestamps: list[float]) -> None:
        """Append ``items`` with the times they were collected elsewhere."""
        self._items.extend(items)
        self._timestamps.extend(timestamps)

    def _items_and_timestamps(self) -> tuple[list[T], list[float]]:
        """Every queued item and its timestamp, oldest first."""
        return list(self._items), list(self._timestamps)

    def popleft(self) -> tuple[T, float]:
        """Remove and return the oldest item with its timestamp.

        Raises:
            IndexError: If the queue is empty.
        """
        item = self._items.popleft()
        return item, self._timestamps.popleft()

    def __len__(self) -> int:
        return len(self._items)

    def _drain_into(self, add: Callable[[T], None], timestamps: deque[float]) -> None:
        """Pass every item, oldest first, to ``add``, and record the timestamps.

        The timestamp of each item ``add`` accepted is appended to ``timestamps``
        and the queue ends up empty. If ``add`` raises, the accepted items and the
        rejected one are removed, their timestamps (not the rejected one's) are
        recorded, the items after the rejected one stay queued, and the error
        propagates.
        """
        accepted = 0
        try:
            for item in self._items:
                add(item)
                accepted += 1
        except BaseException:
            timestamps.extend(islice(self._timestamps, accepted))
            for _ in range(accepted + 1):
                self._items.popleft()
                self._timestamps.popleft()
            raise
        timestamps.extend(self._timestamps)
        self._items.clear()
        self._timestamps.clear()

    def _extend(self, newer: "TimestampingQueue[T]") -> None:
        """Append ``newer``'s items and timestamps after this queue's own.

        The bound still applies: if the result would be too long, the oldest items
        (this queue's own) are dropped.
        """
        self._items.extend(newer._items)
        self._timestamps.extend(newer._timestamps)


class DataCollector(Generic[T]):
    """The agent's end of a data path: a thread-safe, bounded, timestamped queue.

    Each :class:`DataUser` creates its own collector; agents obtain it by name from
    :class:`~pamiq_core.data.DataCollectorsDict`.

    When its buffer declares the keys of its items (:meth:`DataBuffer.item_keys`),
    ``collect`` checks each item against them, so that a wrong item fails in the
    agent that collected it, naming the buffer.

    Locking: the pending queue is owned by this object and guarded by its re-entrant
    lock, held only for one append or for swapping the queue out (O(1)). ``collect``
    is safe to call from any thread. The expected keys are set before the system
    starts and only read afterwards.
    """

    def __init__(self, max_queue_size: int | None) -> None:
        """Create a collector whose queue keeps at most ``max_queue_size`` items.

        Args:
            max_queue_size: The bound; when full, collecting drops the oldest
                pending item. ``None`` means unbounded.

        Raises:
            ValueError: If ``max_queue_size`` is negative or zero.
        """
        if max_queue_size is not None and max_queue_size <= 0:
            raise ValueError(
                "max_queue_size must be positive (or None for no bound): a "
                "zero-length queue would discard every collected item. "
                f"Got max_queue_size={max_queue_size}."
            )
        self._max_queue_size = max_queue_size
        self._queue = TimestampingQueue[T](max_queue_size)
        self._lock = threading.RLock()
        self._item_keys: frozenset[str] | None = None
        self._buffer_class = "the buffer"
        self._buffer_name: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The collector without its pending items and lock, to send to a process.

        Pending items are the sending side's to deliver; the receiving side starts
        with an empty queue of the same bound.
        """
        return {"_max_queue_size": self._max_queue_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a collector sent by :meth:`__getstate__`, empty."""
        self._max_queue_size = state["_max_queue_size"]
        self._queue = TimestampingQueue[T](self._max_queue_size)
        self._lock = threading.RLock()

    def collect(self, data: T) -> None:
        """Queue ``data`` for the trainer, stamped with the current pamiq time.

        Raises:
            ValueError: If the buffer expects dict items with certain keys and
                ``data`` has other keys.
            TypeError: If the buffer expects dict items and ``data`` is not a
                mapping.
        """
        keys = self._item_keys
        if keys is not None:
            try:
                # No cast(): a function call costs as much as the comparison.
                matches = data.keys() == keys  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
            except AttributeError:
                matches = False
            if not matches:
                raise self._wrong_item_error(data)
        with self._lock:
            self._queue.append(data)

    def _expect_keys(self, keys: Iterable[str] | None, buffer_class: str) -> None:
        """Check collected items against ``keys``; messages name ``buffer_class``."""
        self._item_keys = None if keys is None else frozenset(keys)
        self._buffer_class = buffer_class

    def _name_buffer(self, name: str) -> None:
        """Messages also give the buffer's name in the system, ``name``."""
        self._buffer_name = name

    def _wrong_item_error(self, data: object) -> Exception:
        expected = self._item_keys or frozenset[str]()
        where = self._buffer_class
        if self._buffer_name is not None:
            where += f" {self._buffer_name!r}"
        where += " expects"
        try:
            keys_of_data = cast(Any, data).keys
            given = {str(k) for k in keys_of_data()}
        except Exception:  # not a mapping at all
            return TypeError(
                f"{where} dict items with keys {quoted(expected)}; collect() got "
                f"a {type(data).__name__}: {_short_repr(data)}."
            )
        missing, extra = expected - given, given - expected
        details: list[str] = []
        if missing:
            details.append(f"missing {quoted(missing)}")
        if extra:
            unexpected = f"unexpected {quoted(extra)}"
            for key in sorted(extra):
                matches = close_matches(key, missing)
                if matches:
                    unexpected += f" ({key!r}: did you mean {matches[0]!r}?)"
            details.append(unexpected)
        return ValueError(
            f"{where} items with keys {quoted(expected)}; collect() got keys "
            f"{quoted(given)}: {', '.join(details)}."
        )

    def _move_data(self) -> TimestampingQueue[T]:
        """Detach and return the pending queue, leaving an empty one in its place."""
        fresh = TimestampingQueue[T](self._max_queue_size)
        with self._lock:
            pending, self._queue = self._queue, fresh
        return pending

    def _receive(self, items: list[T], timestamps: list[float]) -> None:
        """Queue items collected in another process, keeping their timestamps.

        The bound applies as to :meth:`collect`: the oldest items are dropped.
        """
        with self._lock:
            self._queue._extend_stamped(items, timestamps)  # pyright: ignore[reportPrivateUsage]

    def _put_back(self, unused: TimestampingQueue[T]) -> None:
        """Return items taken by :meth:`_move_data` that did not reach the buffer.

        They go ahead of anything collected since, as they are older; if the bound
        is exceeded, the oldest items are dropped as usual.
        """
        with self._lock:
            unused._extend(self._queue)  # pyright: ignore[reportPrivateUsage]
            self._queue = unused


class DataUser(PersistentStateMixin, Generic[R]):
    """The trainer's end of a data path: a buffer fed from its own collector.

    Creates the :class:`DataCollector` that agents collect into, moves pending items
    into the buffer on :meth:`update`, and remembers when each item was collected
    (the newest ``buffer.max_queue_size`` timestamps) so trainers can ask how much
    data is new.

    Ownership: used by the training thread only (and for state I/O while the system
    is paused); the buffer and the timestamps need no lock. Only the hand-over with
    the collector is locked, by the collector.
    """

    def __init__(self, buffer: DataBuffer[Any, R]) -> None:
        """Wrap ``buffer`` and create its collector, bounded by ``buffer.max_queue_size``.

        The collector checks items against ``buffer.item_keys()``, asked once here.
        """
        self._buffer = buffer
        self._timestamps: deque[float] = deque(maxlen=buffer.max_queue_size)
        self._collector = DataCollector[Any](buffer.max_queue_size)
        self._collector._expect_keys(_item_keys(buffer), type(buffer).__name__)  # pyright: ignore[reportPrivateUsage]

    @property
    def buffer(self) -> DataBuffer[Any, R]:
        """The buffer this user fills.

        Trainers may use it directly after :meth:`update`, for example to draw a
        batch with ``RingBuffer.sample`` instead of copying all data with
        :meth:`get_data`.
        """
        return self._buffer

    def update(self) -> None:
        """Move every pending item, oldest first, into the buffer.

        If ``buffer.add`` raises, the item it rejected is dropped, the items after
        it go back to the front of the collector's queue (ahead of anything
        collected meanwhile), and the error propagates. Dropping the rejected item
        keeps one bad item from failing every later update.
        """
        pending = self._collector._move_data()  # pyright: ignore[reportPrivateUsage]
        try:
            pending._drain_into(self._buffer.add, self._timestamps)  # pyright: ignore[reportPrivateUsage]
        except BaseException:
            if len(pending) > 0:
                self._collector._put_back(pending)  # pyright: ignore[reportPrivateUsage]
            raise

    def get_data(self) -> R:
        """Update, then return the buffer's data."""
        self.update()
        return self._buffer.get_data()

    def count_data_added_since(self, timestamp: float) -> int:
        """Count the items collected strictly after ``timestamp``.

        Only items already moved into the buffer count (this does not update), and
        at most ``buffer.max_queue_size`` of them, the size of the timestamp window.
        """
        count = 0
        for collected_at in reversed(self._timestamps):
            if collected_at <= timestamp:
                break
            count += 1
        return count

    def save_state(self, path: Path) -> None:
        """Update, then save the buffer to ``path / "buffer"`` and the timestamps.

        Layout: directory ``path`` holding whatever the buffer writes for
        ``path / "buffer"`` and ``timestamps.pkl`` (a pickled deque of floats).
        """
        self.update()
        path.mkdir()
        self._buffer.save_state(path / "buffer")
        save_pickle(self._timestamps, path / "timestamps.pkl")

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote; pending collected items are kept."""
        self._buffer.load_state(path / "buffer")
        self._timestamps = deque(
            load_pickle(path / "timestamps.pkl"), maxlen=self._buffer.max_queue_size
        )

    def __len__(self) -> int:
        """Number of items in the buffer."""
        return len(self._buffer)


def _item_keys(buffer: object) -> AbstractSet[str] | None:
    """What ``buffer.item_keys()`` declares; None for buffers without the method.

    Anything but a set counts as None, so that a mock buffer accepts every item.
    """
    item_keys = getattr(buffer, "item_keys", None)
    keys = item_keys() if callable(item_keys) else None
    return cast(AbstractSet[str], keys) if isinstance(keys, AbstractSet) else None


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
