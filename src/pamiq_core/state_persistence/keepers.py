"""Keepers decide which saved snapshots to remove."""

import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from pamiq_core.utils.reflection import get_class_module_path

from ._files import remove_tree_atomically
from .manifest import find_latest_state


class StatesKeeper(ABC):
    """Decides which saved snapshots to remove.

    The control thread calls :meth:`append` after every save and :meth:`cleanup`
    regularly. Whatever a subclass selects, :meth:`cleanup` never removes the newest
    complete snapshot of a directory (it hands such a path back to :meth:`append`, so
    it can be selected again once a newer snapshot exists), and removes a snapshot
    atomically (renamed away first), so a crash mid-removal never leaves a
    half-deleted snapshot.
    """

    def __init__(self) -> None:
        """Create the keeper's logger."""
        self.logger = logging.getLogger(get_class_module_path(type(self)))

    def append(self, path: Path) -> None:  # noqa: B027 (optional hook)
        """Note a newly saved snapshot (does nothing by default)."""

    @abstractmethod
    def select_removal_states(self) -> Iterable[Path]:
        """The snapshots to remove now."""

    def cleanup(self) -> list[Path]:
        """Remove the selected snapshots that exist.

        Returns:
            The removed paths, in selection order.
        """
        removed: list[Path] = []
        for path in self.select_removal_states():
            if not path.exists():
                continue
            if path == find_latest_state(path.parent, verify=False):
                self.logger.debug(f"Kept '{path}': it is the newest complete state.")
                self.append(path)
                continue
            remove_tree_atomically(path)
            self.logger.info(f"Removed: '{path}'")
            removed.append(path)
        return removed


class LatestStatesKeeper(StatesKeeper):
    """Keeps the newest ``max_keep`` snapshots and removes older ones."""

    def __init__(
        self,
        states_dir: str | Path,
        max_keep: int,
        state_name_pattern: str = "*.state",
    ) -> None:
        """Track the snapshots in ``states_dir`` that match ``state_name_pattern``.

        Raises:
            ValueError: If ``max_keep`` is negative.
        """
        super().__init__()
        if max_keep < 0:
            raise ValueError(f"max_keep must be non-negative, got {max_keep}.")
        self.max_keep = max_keep
        states_dir = Path(states_dir)
        if not states_dir.exists():
            self.logger.warning(
                f"States directory '{states_dir}' does not exist; creating it."
            )
            states_dir.mkdir(parents=True, exist_ok=True)
        existing = sorted(
            states_dir.glob(state_name_pattern), key=lambda p: p.stat().st_mtime
        )
        self._state_paths: deque[Path] = deque(existing)

    def append(self, path: Path) -> None:
        """Track ``path`` as the newest snapshot."""
        self._state_paths.append(path)

    def select_removal_states(self) -> list[Path]:
        """The oldest snapshots beyond the newest ``max_keep`` (then forgotten)."""
        excess = len(self._state_paths) - self.max_keep
        return [self._state_paths.popleft() for _ in range(max(0, excess))]
