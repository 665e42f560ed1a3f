"""Named collections of data users and their collectors."""

from collections import UserDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.utils.naming import (
    UnknownNameError,
    name_choices,
    unknown_name_message,
)

from .buffer import DataBuffer
from .interface import DataCollector, DataUser


class DataCollectorsDict(UserDict[str, DataCollector[Any]]):
    """The data collectors agents obtain by name.

    Each collector may be acquired once (one agent feeds one data path); plain
    indexing is not restricted. Built at launch and afterwards only read, so it has
    no lock; acquisition happens while agents are attached.
    """

    def __init__(self, *args: Any, **kwds: Any) -> None:
        """Accept the same arguments as :class:`dict`."""
        super().__init__(*args, **kwds)
        self._acquired_by: dict[str, object] = {}

    def acquire(
        self, collector_name: str, *, owner: object | None = None
    ) -> DataCollector[Any]:
        """Return the collector named ``collector_name`` and mark it as taken.

        Args:
            collector_name: The collector's name (the name of its data user).
            owner: Who acquires it, named (with ``str``) in the error if someone
                tries to acquire it again; agents pass ``"agent <class path>"``.

        Raises:
            KeyError: If the collector was already acquired, or does not exist.
        """
        if collector_name in self._acquired_by:
            owner_info = ""
            holder = self._acquired_by[collector_name]
            if holder is not None:
                owner_info = f" It is held by {holder}."
            raise KeyError(
                f"Data collector '{collector_name}' is already acquired.{owner_info}"
                " Each collector can be acquired once, by one agent: acquire it in "
                "on_data_collectors_attached(), keep it in an attribute, and collect "
                "through that (not a new get_data_collector call per step)."
            )
        if collector_name not in self.data:
            raise UnknownNameError(self._not_found_message(collector_name))
        self._acquired_by[collector_name] = owner
        return self.data[collector_name]

    def __getitem__(self, key: str) -> DataCollector[Any]:
        """Return the collector named ``key`` (without acquiring it).

        Raises:
            KeyError: If there is none, saying which names there are.
        """
        try:
            return self.data[key]
        except KeyError:
            raise UnknownNameError(self._not_found_message(key)) from None

    def _not_found_message(self, name: object) -> str:
        # The first sentence is 0.6's message.
        return f"Data collector {name!r} not found. " + name_choices(
            name, self.data, "data collector", "launch(buffers=...)"
        )

    def __delitem__(self, key: str) -> None:
        """Remove the collector; its name may then be acquired again."""
        del self.data[key]
        self._acquired_by.pop(key, None)

    def copy(self) -> Self:
        """An independent container with the same collectors and acquisitions."""
        copied = type(self)(self.data)
        copied._acquired_by.update(self._acquired_by)
        return copied


class DataUsersDict(UserDict[str, DataUser[Any]], PersistentStateMixin):
    """The data users trainers look up by name.

    Keeps a companion :class:`DataCollectorsDict` in step: every data user publishes
    its collector there under the same name, and deleting a user removes its
    collector. Built at launch and afterwards only read, so it has no lock.
    """

    def __init__(self, *args: Any, **kwds: Any) -> None:
        """Accept the same arguments as :class:`dict`."""
        self._data_collectors_dict = DataCollectorsDict()
        super().__init__(*args, **kwds)

    @property
    def data_collectors_dict(self) -> DataCollectorsDict:
        """The companion dict of collectors (always the same object)."""
        return self._data_collectors_dict

    def __getitem__(self, key: str) -> DataUser[Any]:
        """Return the data user named ``key``.

        Raises:
            KeyError: If there is none, saying which names there are.
        """
        try:
            return self.data[key]
        except KeyError:
            raise UnknownNameError(
                unknown_name_message(
                    key, self.data, "data user", origin="launch(buffers=...)"
                )
            ) from None

    def __setitem__(self, key: str, item: DataUser[Any]) -> None:
        """Store ``item`` and publish its collector under ``key``."""
        self.data[key] = item
        collector = item._collector  # pyright: ignore[reportPrivateUsage]
        collector._name_buffer(key)  # pyright: ignore[reportPrivateUsage]
        self._data_collectors_dict[key] = collector

    def __delitem__(self, key: str) -> None:
        """Remove the data user and its published collector."""
        del self.data[key]
        self._data_collectors_dict.pop(key, None)

    def copy(self) -> Self:
        """A new container, with its own companion dict, holding the same users."""
        return type(self)(self.data)

    @classmethod
    def from_data_buffers(
        cls,
        buffer_map: Mapping[str, DataBuffer[Any, Any]] | None = None,
        /,
        **kwds: DataBuffer[Any, Any],
    ) -> Self:
        """Wrap each buffer in a new :class:`DataUser` under its name.

        Keyword buffers win over entries of ``buffer_map`` with the same name.
        """
        buffers: dict[str, DataBuffer[Any, Any]] = {}
        if buffer_map is not None:
            buffers.update(buffer_map)
        buffers.update(kwds)
        return cls({name: DataUser(buffer) for name, buffer in buffers.items()})

    def save_state(self, path: Path) -> None:
        """Create directory ``path`` and save each user to ``path / name``."""
        path.mkdir()
        for name, user in self.data.items():
            user.save_state(path / name)

    def load_state(self, path: Path) -> None:
        """Load each user from ``path / name``."""
        for name, user in self.data.items():
            user.load_state(path / name)
