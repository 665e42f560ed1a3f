"""Key handling shared by the buffers whose items are dicts of named values."""

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Generic, TypeVar

T = TypeVar("T")


class KeySet(Generic[T]):
    """The fixed set of keys every item of a dict buffer must have.

    Keys keep the order they were first given in, so data comes back in that order.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        """Remember ``keys`` (duplicates collapse)."""
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
