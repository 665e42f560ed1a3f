"""Saving and loading the state of long-lived parts of a system.

Every persistable part receives a :class:`pathlib.Path` that its caller has reserved
for it and that does not exist yet when saving. The part decides how to use it: as a
directory of its own, or as the stem of a single file.
"""

import pickle
from pathlib import Path
from typing import Any


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
