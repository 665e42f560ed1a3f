"""Saving and loading the state of a whole system, safely.

Every persistable part receives a :class:`pathlib.Path` that its caller has reserved
for it and that does not exist yet when saving. The part decides how to use it: as a
directory of its own, or as the stem of a single file.

A :class:`StateStore` saves all registered parts into one snapshot directory. A
snapshot is written under a hidden temporary name, a manifest is written last, and
only then is the directory renamed to its final name, atomically. A crash or a kill at
any moment therefore leaves either a complete snapshot or no snapshot (plus hidden
leftovers that the next store removes), never a half-written one under a real name.
Loading refuses a folder without a manifest.
"""

import json
import logging
import os
import pickle
import shutil
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

MANIFEST_NAME = "pamiq-state.json"
"""File written last into every complete snapshot."""

MANIFEST_FORMAT = "pamiq-core-state"
_TEMPORARY_PREFIX = ".pamiq-tmp-"
_TRASH_PREFIX = ".pamiq-trash-"

logger = logging.getLogger(__name__)


class PersistentStateMixin:
    """Adds ``save_state`` / ``load_state`` hooks that do nothing by default.

    Subclasses override both to write their state under ``path`` and read it back
    from the same ``path``.
    """

    def save_state(self, path: Path) -> None:
        """Save this object's state under ``path`` (does nothing by default)."""

    def load_state(self, path: Path) -> None:
        """Load the state that ``save_state`` wrote under ``path`` (no-op by default)."""


def save_pickle(obj: Any, path: Path | str) -> None:
    """Write ``obj`` to ``path`` with the standard pickle module."""
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def load_pickle(path: Path | str) -> Any:
    """Read back an object written by :func:`save_pickle`."""
    with open(path, "rb") as f:
        return pickle.load(f)


class IncompleteStateError(FileNotFoundError):
    """A folder that is not a complete snapshot was given to load from."""


def read_manifest(state_path: Path) -> dict[str, Any] | None:
    """The manifest of a complete snapshot, or None if ``state_path`` is not one."""
    try:
        manifest: object = json.loads((state_path / MANIFEST_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    checked = cast(dict[str, Any], manifest)
    return checked if checked.get("format") == MANIFEST_FORMAT else None


def is_complete_state(state_path: Path) -> bool:
    """Whether ``state_path`` is a snapshot directory whose save completed."""
    return read_manifest(state_path) is not None


def find_latest_state(states_dir: str | Path) -> Path | None:
    """The newest complete snapshot directly under ``states_dir``, or None.

    Hidden leftovers and folders without a manifest are ignored. Snapshots are
    ordered by the time recorded in their manifest.
    """
    newest: tuple[float, str] | None = None
    newest_path: Path | None = None
    try:
        candidates = list(Path(states_dir).iterdir())
    except FileNotFoundError:
        return None
    for path in candidates:
        if path.name.startswith("."):
            continue
        manifest = read_manifest(path)
        if manifest is None:
            continue
        key = (float(manifest.get("saved_at", 0.0)), path.name)
        if newest is None or key > newest:
            newest, newest_path = key, path
    return newest_path


def _fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` to disk."""
    for directory, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_directory(Path(directory))


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _remove_tree_atomically(path: Path) -> None:
    """Remove ``path`` so that it is either fully there or fully gone by its name."""
    trash = path.with_name(f"{_TRASH_PREFIX}{uuid.uuid4().hex}-{path.name}")
    path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


class StateStore:
    """Saves registered parts into one snapshot directory per save.

    Not thread-safe: the control thread uses it while the other threads are paused
    (or before they start and after they stop).
    """

    def __init__(
        self,
        states_dir: str | Path,
        state_name_format: str = "%Y-%m-%d_%H-%M-%S,%f.state",
    ) -> None:
        """Save snapshots under ``states_dir`` (created if missing, not its parents).

        Hidden leftovers of saves that were interrupted are removed.

        Raises:
            FileNotFoundError: If the parent of ``states_dir`` does not exist.
        """
        self.states_dir = Path(states_dir)
        self.state_name_format = state_name_format
        self.states_dir.mkdir(exist_ok=True)
        self._registered_states: dict[str, PersistentStateMixin] = {}
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        for path in self.states_dir.iterdir():
            if path.name.startswith((_TEMPORARY_PREFIX, _TRASH_PREFIX)):
                logger.warning(
                    f"Removing the leftover of an interrupted save: '{path}'"
                )
                shutil.rmtree(path, ignore_errors=True)

    def register(self, name: str, state: PersistentStateMixin) -> None:
        """Save and load ``state`` as ``<snapshot>/<name>``.

        Raises:
            KeyError: If ``name`` is already registered.
        """
        if name in self._registered_states:
            raise KeyError(f"State with name '{name}' is already registered")
        self._registered_states[name] = state

    def save_state(self, *, note: str | None = None) -> Path:
        """Save every registered part into a new snapshot directory.

        Args:
            note: Recorded in the manifest (for example why the save happened);
                read it back with :func:`read_manifest`.

        Returns:
            The snapshot directory, named from the current wall-clock time.

        Raises:
            FileExistsError: If a snapshot of the same name exists.
        """
        now = datetime.now()
        path = self.states_dir / now.strftime(self.state_name_format)
        if path.exists():
            raise FileExistsError(f"State path '{path}' already exists.")
        temporary = self.states_dir / f"{_TEMPORARY_PREFIX}{uuid.uuid4().hex}"
        temporary.mkdir()
        try:
            for name, state in self._registered_states.items():
                state.save_state(temporary / name)
            _fsync_tree(temporary)
            manifest = {
                "format": MANIFEST_FORMAT,
                "version": 1,
                "saved_at": now.timestamp(),
                "components": list(self._registered_states),
            }
            if note is not None:
                manifest["note"] = note
            _write_durably(temporary / MANIFEST_NAME, json.dumps(manifest, indent=2))
            _fsync_directory(temporary)
            if path.exists():
                raise FileExistsError(f"State path '{path}' already exists.")
            temporary.rename(path)
            _fsync_directory(self.states_dir)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        return path

    def load_state(self, state_path: str | Path) -> None:
        """Load every registered part from a complete snapshot.

        Raises:
            FileNotFoundError: If ``state_path`` does not exist.
            IncompleteStateError: If ``state_path`` is not a complete snapshot (no
                manifest: an interrupted save or a foreign folder), or if it lacks a
                registered part. It is a :class:`FileNotFoundError`.
        """
        state_path = Path(state_path)
        if not state_path.exists():
            raise FileNotFoundError(f"State path: '{state_path}' not found!")
        manifest = read_manifest(state_path)
        if manifest is None:
            raise IncompleteStateError(
                f"'{state_path}' is not a complete pamiq-core state: its manifest "
                f"'{MANIFEST_NAME}' is missing or unreadable, so the save that wrote "
                "it did not finish or the folder was not written by pamiq-core."
            )
        saved = set(manifest.get("components", []))
        missing = [name for name in self._registered_states if name not in saved]
        if missing:
            raise IncompleteStateError(
                f"State '{state_path}' lacks the parts {missing}; it holds "
                f"{sorted(saved)}."
            )
        for name, state in self._registered_states.items():
            state.load_state(state_path / name)


class PeriodicSaveCondition:
    """A save condition that is true at most once per ``interval`` of pamiq time.

    Pamiq time stands still while the system is paused, so a paused system never
    triggers a save.
    """

    def __init__(self, interval: float) -> None:
        """Become true each time more than ``interval`` seconds have passed.

        Raises:
            ValueError: If ``interval`` is negative.
        """
        from pamiq_core.utils.schedulers import TimeIntervalScheduler  # noqa: PLC0415

        self._due = False
        self._scheduler = TimeIntervalScheduler(interval, self._mark_due)

    def _mark_due(self) -> None:
        self._due = True

    def __call__(self) -> bool:
        """Whether a save is due now; resets until the next interval has passed."""
        self._scheduler.update()
        due, self._due = self._due, False
        return due


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
        from pamiq_core.utils.reflection import get_class_module_path  # noqa: PLC0415

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
            if path == find_latest_state(path.parent):
                self.logger.debug(f"Kept '{path}': it is the newest complete state.")
                self.append(path)
                continue
            _remove_tree_atomically(path)
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
