"""Durable file-system steps of a save: flushing, sealing, atomic removal."""

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import TypedDict

TEMPORARY_PREFIX = ".pamiq-tmp-"
"""Hidden name of a snapshot being written."""
TRASH_PREFIX = ".pamiq-trash-"
"""Hidden name of a snapshot being removed."""
ROLLBACK_PREFIX = ".pamiq-rollback-"
"""Hidden name of the in-memory state kept while a snapshot is loaded."""
HIDDEN_PREFIXES = (TEMPORARY_PREFIX, TRASH_PREFIX, ROLLBACK_PREFIX)

_CHUNK = 1 << 20


class FileRecord(TypedDict):
    """What a manifest records of one file: its size and SHA-256."""

    size: int
    sha256: str


def file_record(path: Path) -> FileRecord:
    """The size and SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def seal_tree(root: Path) -> dict[str, FileRecord]:
    """Flush every file and directory under ``root`` to disk and record each file.

    Returns:
        The size and SHA-256 of every file, by its ``/``-separated path relative to
        ``root``, in sorted order.

    Raises:
        OSError: Naming the file that could not be read or flushed.
    """
    records: dict[str, FileRecord] = {}
    for directory, _, files in os.walk(root):
        for name in sorted(files):
            path = Path(directory, name)
            records[path.relative_to(root).as_posix()] = _seal_file(path)
        fsync_directory(Path(directory))
    return dict(sorted(records.items()))


def _seal_file(path: Path) -> FileRecord:
    fd = os.open(path, os.O_RDONLY)
    try:
        record = file_record(path)
        os.fsync(fd)
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise
    finally:
        os.close(fd)
    return record


def fsync_directory(path: Path) -> None:
    """Flush the entries of directory ``path`` (its renames and new files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` and flush it to disk."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def hidden_sibling(directory: Path, prefix: str, name: str = "") -> Path:
    """A new hidden path in ``directory`` that no other save uses."""
    return directory / f"{prefix}{uuid.uuid4().hex}{'-' + name if name else ''}"


def remove_tree_atomically(path: Path) -> None:
    """Remove ``path`` so that it is either fully there or fully gone by its name."""
    trash = hidden_sibling(path.parent, TRASH_PREFIX, path.name)
    path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
