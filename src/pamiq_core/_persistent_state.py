"""The save/load protocol every persistable part follows, and pickle helpers.

It sits at the bottom of the package (``pamiq_core.time`` builds on it), and is
published as part of :mod:`pamiq_core.state_persistence`.
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


PersistentStateMixin.__module__ = "pamiq_core.state_persistence"
save_pickle.__module__ = "pamiq_core.state_persistence"
load_pickle.__module__ = "pamiq_core.state_persistence"
