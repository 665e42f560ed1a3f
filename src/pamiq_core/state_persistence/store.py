"""Saving every part of a system into one snapshot directory, and loading it back."""

import json
import logging
import shutil
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pamiq_core._persistent_state import PersistentStateMixin

from ._files import (
    HIDDEN_PREFIXES,
    ROLLBACK_PREFIX,
    TEMPORARY_PREFIX,
    fsync_directory,
    hidden_sibling,
    seal_tree,
    write_durably,
)
from .manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    MANIFEST_VERSION,
    missing_legacy_entries,
    read_manifest,
    saved_parts,
    skipped_parts,
    verify_state,
)

logger = logging.getLogger("pamiq_core.state_persistence")


class IncompleteStateError(FileNotFoundError):
    """A folder that is not a complete snapshot was given to load from."""


class DamagedStateError(IncompleteStateError):
    """A snapshot whose files no longer match what its manifest recorded."""


class StateSaveError(RuntimeError):
    """Saving a snapshot failed; earlier snapshots are untouched.

    Attributes:
        state_path: The snapshot that was being written.
        part: The registered part whose save failed, or None if the failure came
            after the parts (flushing, the manifest, the rename).
    """

    def __init__(self, message: str, state_path: Path, part: str | None) -> None:
        super().__init__(message)
        self.state_path = state_path
        self.part = part


class StateStore:
    """Saves registered parts into one snapshot directory per save.

    A snapshot is written under a hidden temporary name; every file is flushed to
    disk and its size and checksum recorded in a manifest written last; only then
    is the directory renamed to its final name. A crash or a kill at any moment
    leaves either a complete snapshot or none (plus hidden leftovers that the next
    store removes). Loading checks the manifest and the files first, and is all or
    nothing: if a part fails to load, the parts are put back as they were.

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
        self._optional: set[str] = set()
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        for path in self.states_dir.iterdir():
            if path.name.startswith(HIDDEN_PREFIXES):
                logger.warning(
                    f"Removing the leftover of an interrupted save: '{path}'"
                )
                shutil.rmtree(path, ignore_errors=True)

    def register(
        self, name: str, state: PersistentStateMixin, *, optional: bool = False
    ) -> None:
        """Save and load ``state`` as ``<snapshot>/<name>``.

        Args:
            name: The part's entry in every snapshot.
            state: What saves and loads it.
            optional: Whether a snapshot without this part (an older one) still
                loads, leaving this part as it is.

        Raises:
            KeyError: If ``name`` is already registered.
        """
        if name in self._registered_states:
            raise KeyError(f"State with name '{name}' is already registered")
        self._registered_states[name] = state
        if optional:
            self._optional.add(name)

    @property
    def part_names(self) -> list[str]:
        """The registered parts, in registration (saving and loading) order."""
        return list(self._registered_states)

    def save_state(
        self,
        *,
        note: str | None = None,
        skip: Mapping[str, str] | None = None,
        after_error: bool = False,
    ) -> Path:
        """Save every registered part into a new snapshot directory.

        Args:
            note: Recorded in the manifest (for example why the save happened);
                read it back with :func:`read_manifest`.
            skip: Parts to leave out, each with the reason, recorded in the
                manifest (a snapshot with skipped parts is never taken as
                ``latest``, and loading it names what is missing).
            after_error: Marks the snapshot as saved after an error.

        Returns:
            The snapshot directory, named from the current wall-clock time.

        Raises:
            FileExistsError: If a snapshot of the same name exists.
            StateSaveError: If a part or the writing of the snapshot failed; it
                names the snapshot and the part, and the original error is its
                cause. Nothing is left under the snapshot's name.
        """
        now = _wall_clock_now()
        path = self.states_dir / now.strftime(self.state_name_format)
        if path.exists():
            raise FileExistsError(f"State path '{path}' already exists.")
        skip = dict(skip or {})
        temporary = hidden_sibling(self.states_dir, TEMPORARY_PREFIX)
        temporary.mkdir()
        try:
            saved = self._save_parts(temporary, path, skip)
            manifest: dict[str, Any] = {
                "format": MANIFEST_FORMAT,
                "version": MANIFEST_VERSION,
                "saved_at": now.timestamp(),
                "components": saved,
            }
            if skip:
                manifest["skipped"] = skip
            if after_error:
                manifest["after_error"] = True
            if note is not None:
                manifest["note"] = note
            self._finish(temporary, path, manifest)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        return path

    def _save_parts(
        self, temporary: Path, path: Path, skip: Mapping[str, str]
    ) -> list[str]:
        saved: list[str] = []
        for name, state in self._registered_states.items():
            if name in skip:
                continue
            try:
                state.save_state(temporary / name)
            except Exception as error:
                raise StateSaveError(
                    f"Saving the part '{name}' of the snapshot '{path}' failed: "
                    f"{error}",
                    path,
                    name,
                ) from error
            saved.append(name)
        return saved

    def _finish(self, temporary: Path, path: Path, manifest: dict[str, Any]) -> None:
        """Seal the files, write the manifest, and rename into place."""
        try:
            manifest["files"] = seal_tree(temporary)
            write_durably(temporary / MANIFEST_NAME, json.dumps(manifest, indent=2))
            fsync_directory(temporary)
            if path.exists():
                raise FileExistsError(f"State path '{path}' already exists.")
            temporary.rename(path)
            fsync_directory(self.states_dir)
        except OSError as error:
            raise StateSaveError(
                f"Writing the snapshot '{path}' failed: {error}", path, None
            ) from error

    def load_state(self, state_path: str | Path) -> None:
        """Load every registered part from a snapshot, all or nothing.

        The snapshot must be complete (its manifest lists every registered part
        that is not optional) and intact (every file as its manifest recorded
        it). A folder without a manifest that has PAMIQ-Core 0.6's layout (an
        entry for every registered part) loads too, with a warning that it could
        not be verified.

        Before loading, the current state of every part is saved to a hidden
        folder; if any part fails to load, every part is loaded back from it, so
        nothing is changed, and the original error is raised with a note naming
        the part and the path. This costs one extra save per load.

        Raises:
            FileNotFoundError: If ``state_path`` does not exist.
            IncompleteStateError: If ``state_path`` is neither a complete snapshot
                nor a 0.6 snapshot, or lacks a registered part. It is a
                :class:`FileNotFoundError`.
            DamagedStateError: If a file differs from what the manifest recorded
                (an :class:`IncompleteStateError`), naming the file.
        """
        state_path = Path(state_path)
        if not state_path.exists():
            raise FileNotFoundError(f"State path: '{state_path}' not found!")
        parts = self._parts_to_load(state_path)
        rollback = hidden_sibling(self.states_dir, ROLLBACK_PREFIX)
        rollback.mkdir()
        try:
            for name in parts:
                self._registered_states[name].save_state(rollback / name)
            self._load_parts(state_path, parts, rollback)
        finally:
            shutil.rmtree(rollback, ignore_errors=True)

    def _parts_to_load(self, state_path: Path) -> list[str]:
        """The parts to load from ``state_path``, after checking it can be loaded."""
        registered = list(self._registered_states)
        required = [n for n in registered if n not in self._optional]
        manifest = read_manifest(state_path)
        if manifest is None:
            missing = missing_legacy_entries(state_path, required)
            if missing:
                raise IncompleteStateError(
                    f"'{state_path}' cannot be loaded: it is not a complete "
                    f"pamiq-core snapshot (its manifest '{MANIFEST_NAME}' is missing "
                    "or unreadable, as when a save did not finish), and it is not a "
                    "PAMIQ-Core 0.6 snapshot either (it lacks the entries "
                    f"{missing} that such a save writes)."
                )
            logger.warning(
                f"'{state_path}' has no manifest but has PAMIQ-Core 0.6's layout: "
                "loading it without verifying its files."
            )
            absent = missing_legacy_entries(state_path, registered)
            return [n for n in registered if n not in absent]
        saved = set(saved_parts(manifest))
        missing = [name for name in required if name not in saved]
        if missing:
            skipped = skipped_parts(manifest)
            reasons = "".join(
                f" '{n}' was skipped: {skipped[n]}." for n in missing if n in skipped
            )
            raise IncompleteStateError(
                f"State '{state_path}' lacks the parts {missing}; it holds "
                f"{sorted(saved)}.{reasons}"
            )
        problems = verify_state(state_path, manifest)
        if problems:
            raise DamagedStateError(
                f"The snapshot '{state_path}' is damaged: {'; '.join(problems)}. "
                "Nothing was loaded."
            )
        return [name for name in registered if name in saved]

    def _load_parts(self, state_path: Path, parts: list[str], rollback: Path) -> None:
        for name in parts:
            try:
                self._registered_states[name].load_state(state_path / name)
            except BaseException as error:
                restored = self._restore(rollback, parts)
                outcome = (
                    "Nothing was loaded: every part is as it was before."
                    if restored
                    else "Putting the parts back failed too (logged above): the "
                    "system's state is now partly loaded."
                )
                error.add_note(
                    f"While loading the part '{name}' from '{state_path / name}'"
                    f"{_file_named_by(error)}. {outcome}"
                )
                raise

    def _restore(self, rollback: Path, parts: list[str]) -> bool:
        try:
            for name in parts:
                self._registered_states[name].load_state(rollback / name)
        except Exception:
            logger.exception("Could not put the parts back after a failed load.")
            return False
        return True


def _wall_clock_now() -> datetime:
    """``datetime.now()``, looked up as ``pamiq_core.state_persistence.datetime``.

    Looked up at call time through the package, so that tests can patch it there
    (spec part 1, section 0.2).
    """
    package = sys.modules[__package__ or "pamiq_core.state_persistence"]
    clock: type[datetime] = package.datetime
    return clock.now()


def _file_named_by(error: BaseException) -> str:
    filename = getattr(error, "filename", None)
    return f" (file '{filename}')" if filename else ""
