"""What the buffers whose items are dicts of named values have in common."""

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from pamiq_core.data.buffer import DataBuffer

T = TypeVar("T")


class KeySet(Generic[T]):
    """The fixed set of keys every item of a dict buffer must have.

    Keys keep the order they were first given in, so data comes back in that order.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        """Remember ``keys`` (duplicates collapse).

        Raises:
            TypeError: If ``keys`` is a single string (it would be split into its
                letters).
        """
        if isinstance(keys, str):
            raise TypeError(
                f"keys must be a collection of key names such as [{keys!r}], not "
                f"the string {keys!r}: a string would be taken as the keys "
                f"{sorted(set(keys))}, one per letter."
            )
        self._ordered = tuple(dict.fromkeys(keys))
        self._set: AbstractSet[str] = frozenset(self._ordered)

    def as_set(self) -> set[str]:
        """A fresh, mutable copy of the keys."""
        return set(self._ordered)

    def checked_copy(self, data: Mapping[str, T]) -> dict[str, T]:
        """Return a shallow copy of ``data`` after checking its keys.

        Raises:
            ValueError: If ``data`` has missing, extra or different keys.
        """
        if data.keys() != self._set:
            raise ValueError(
                f"Data keys {set(data.keys())} do not match expected keys "
                f"{set(self._ordered)}"
            )
        return dict(data)

    def columns(self, items: Iterable[Mapping[str, T]]) -> dict[str, list[T]]:
        """Turn a sequence of items into one list of values per key."""
        columns: dict[str, list[T]] = {key: [] for key in self._ordered}
        for item in items:
            for key, values in columns.items():
                values.append(item[key])
        return columns


class DictItemsBuffer(Protocol[T]):
    """A buffer of dict items, as :class:`KeyedBuffer` uses it to store them."""

    @property
    def max_size(self) -> int: ...
    @property
    def max_queue_size(self) -> int | None: ...
    def add(self, data: dict[str, T], /) -> None: ...
    def get_data(self) -> list[dict[str, T]]: ...
    def __len__(self) -> int: ...
    def save_state(self, path: Path, /) -> None: ...
    def load_state(self, path: Path, /) -> None: ...


class KeyedBuffer(DataBuffer[Mapping[str, T], dict[str, list[T]]]):
    """Items that are dicts with a fixed set of keys, kept by an inner buffer.

    Each item is checked and copied on ``add``, so a caller that reuses one dict per
    step never changes stored data; ``get_data`` returns one list per key, in the
    inner buffer's order. The on-disk format is the inner buffer's. Touched only by
    the training thread.
    """

    def __init__(self, keys: Iterable[str], inner: DictItemsBuffer[T]) -> None:
        """Keep items that have exactly ``keys`` in ``inner``."""
        self._inner = inner
        super().__init__(max_queue_size=inner.max_queue_size)
        self._keys = KeySet[T](keys)

    @property
    def max_size(self) -> int:
        """How many items the buffer keeps."""
        return self._inner.max_size

    @property
    def keys(self) -> set[str]:
        """The expected keys (a fresh copy each time)."""
        return self._keys.as_set()

    def add(self, data: Mapping[str, T]) -> None:
        """Store a shallow copy of ``data`` (the inner buffer decides whether to keep it).

        Raises:
            ValueError: If the keys of ``data`` differ from :attr:`keys`.
        """
        self._inner.add(self._keys.checked_copy(data))

    def get_data(self) -> dict[str, list[T]]:
        """A new dict mapping each key to its values, in the inner buffer's order."""
        return self._keys.columns(self._inner.get_data())

    def __len__(self) -> int:
        return len(self._inner)

    def save_state(self, path: Path) -> None:
        """Save as the inner buffer does (a pickle of plain dicts)."""
        self._inner.save_state(path)

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote (keys are not checked)."""
        self._inner.load_state(path)
