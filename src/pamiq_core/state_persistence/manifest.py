"""The manifest that makes a snapshot complete, and checking snapshots against it.

A snapshot's manifest is written last, so its presence says the save finished. It
records each file's size and SHA-256, so a file truncated or changed afterwards is
found before anything is loaded from it.
"""

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from ._files import HIDDEN_PREFIXES, FileRecord, file_record

MANIFEST_NAME = "pamiq-state.json"
"""File written last into every complete snapshot."""

MANIFEST_FORMAT = "pamiq-core-state"
MANIFEST_VERSION = 2
"""Version 2 added file sizes and checksums, skipped parts and ``after_error``."""

logger = logging.getLogger("pamiq_core.state_persistence")


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


def saved_at(manifest: dict[str, Any]) -> float | None:
    """When the snapshot was saved (Unix time), or None if the manifest says no time."""
    value = manifest.get("saved_at")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def saved_parts(manifest: dict[str, Any]) -> list[str]:
    """The parts the snapshot holds (the manifest's ``components``)."""
    components = manifest.get("components")
    if not isinstance(components, list):
        return []
    return [str(c) for c in cast(list[object], components)]


def skipped_parts(manifest: dict[str, Any]) -> dict[str, str]:
    """The parts a save left out, with the reason, as recorded in the manifest."""
    skipped = manifest.get("skipped")
    if not isinstance(skipped, dict):
        return {}
    return {str(k): str(v) for k, v in cast(dict[object, object], skipped).items()}


def saved_after_error(manifest: dict[str, Any]) -> bool:
    """Whether the snapshot was the final save of a run that failed."""
    note = manifest.get("note")
    return bool(manifest.get("after_error")) or (
        isinstance(note, str) and note.startswith("after an error")
    )


def verify_state(state_path: Path, manifest: dict[str, Any] | None = None) -> list[str]:
    """What is wrong with the files of a snapshot, one sentence each (empty: intact).

    Every file the manifest records must exist with its recorded size and SHA-256.
    A manifest without file records (written before version 2) has nothing to check.

    Args:
        state_path: The snapshot directory.
        manifest: Its manifest, if already read.
    """
    manifest = manifest if manifest is not None else read_manifest(state_path)
    if manifest is None:
        return [f"it has no readable manifest '{MANIFEST_NAME}'"]
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        return ["its manifest's file list is not a mapping"]
    problems: list[str] = []
    for name, recorded in cast(dict[str, FileRecord], files).items():
        problem = _file_problem(state_path, name, recorded)
        if problem is not None:
            problems.append(problem)
    return problems


def _file_problem(state_path: Path, name: str, recorded: FileRecord) -> str | None:
    path = state_path / name
    try:
        size = path.stat().st_size
    except OSError:
        return f"the file '{name}' is missing"
    try:
        expected_size, expected_sha = recorded["size"], recorded["sha256"]
    except (KeyError, TypeError):
        return f"the manifest's record of '{name}' is malformed"
    if size != expected_size:
        return f"the file '{name}' has {size} bytes, {expected_size} were saved"
    try:
        actual = file_record(path)["sha256"]
    except OSError as error:
        return f"the file '{name}' cannot be read ({error})"
    if actual != expected_sha:
        return f"the file '{name}' was changed after it was saved (checksum mismatch)"
    return None


def missing_legacy_entries(state_path: Path, parts: Iterable[str]) -> list[str]:
    """The parts that a PAMIQ-Core 0.6 save would have left in ``state_path`` but are not.

    0.6 wrote no manifest. Each part it saved left an entry named after it, either
    a directory (``interaction/``, ``models/``, ...) or a file with a suffix
    (``time.pkl``); a folder with an entry for every part has 0.6's layout.
    """
    missing: list[str] = []
    for part in parts:
        if (state_path / part).exists():
            continue
        if any(True for _ in state_path.glob(f"{part}.*")):
            continue
        missing.append(part)
    return missing


def find_latest_state(
    states_dir: str | Path,
    *,
    verify: bool = True,
    skip_saved_after_error: bool = False,
) -> Path | None:
    """The newest complete, intact snapshot directly under ``states_dir``, or None.

    Hidden leftovers and folders without a manifest are ignored. Snapshots are
    ordered by the time recorded in their manifest (then by name). A snapshot whose
    files do not match its manifest, or that a save left parts out of, is skipped
    with a warning naming it and what is wrong, and the next newest is taken.

    Args:
        states_dir: The directory holding the snapshots.
        verify: Check each candidate's files against its manifest (sizes and
            checksums) before taking it; False trusts the manifest alone (cheap).
        skip_saved_after_error: Also skip snapshots saved after an error (the
            final save of a run that failed).
    """
    for path, manifest in _complete_states_newest_first(Path(states_dir)):
        reason = _unusable_reason(path, manifest, verify, skip_saved_after_error)
        if reason is None:
            return path
        logger.warning(f"Skipping the snapshot '{path}': {reason}.")
    return None


def _complete_states_newest_first(
    states_dir: Path,
) -> list[tuple[Path, dict[str, Any]]]:
    try:
        candidates = list(states_dir.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: list[tuple[float, str, Path, dict[str, Any]]] = []
    for path in candidates:
        if path.name.startswith((".", *HIDDEN_PREFIXES)):
            continue
        manifest = read_manifest(path)
        if manifest is None:
            continue
        time = saved_at(manifest)
        if time is None:
            logger.warning(
                f"Ignoring the snapshot '{path}': its manifest's 'saved_at' is "
                f"{manifest.get('saved_at')!r}, not a time."
            )
            continue
        found.append((time, path.name, path, manifest))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(path, manifest) for _, _, path, manifest in found]


def _unusable_reason(
    path: Path, manifest: dict[str, Any], verify: bool, skip_saved_after_error: bool
) -> str | None:
    skipped = skipped_parts(manifest)
    if skipped:
        return f"its save left out the parts {sorted(skipped)}"
    if skip_saved_after_error and saved_after_error(manifest):
        return "it was saved after an error (skip_saved_after_error)"
    if verify:
        problems = verify_state(path, manifest)
        if problems:
            return "; ".join(problems)
    return None
