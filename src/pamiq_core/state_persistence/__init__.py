"""Saving and loading the state of a whole system, safely.

Every persistable part receives a :class:`pathlib.Path` that its caller has reserved
for it and that does not exist yet when saving. The part decides how to use it: as a
directory of its own, or as the stem of a single file.

A :class:`StateStore` saves all registered parts into one snapshot directory,
atomically and with a manifest of checksums (:mod:`.store`, :mod:`.manifest`);
:func:`find_latest_state` finds the newest intact snapshot; keepers remove old ones
(:mod:`.keepers`); save conditions say when to save (:mod:`.conditions`).
"""

from datetime import datetime

from pamiq_core._persistent_state import (
    PersistentStateMixin,
    load_pickle,
    save_pickle,
)

from .conditions import PeriodicSaveCondition
from .keepers import LatestStatesKeeper, StatesKeeper
from .manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    find_latest_state,
    is_complete_state,
    read_manifest,
    verify_state,
)
from .store import DamagedStateError, IncompleteStateError, StateSaveError, StateStore

__all__ = [
    "PersistentStateMixin",
    "StateStore",
    "save_pickle",
    "load_pickle",
    "PeriodicSaveCondition",
    "StatesKeeper",
    "LatestStatesKeeper",
    "IncompleteStateError",
    "DamagedStateError",
    "StateSaveError",
    "MANIFEST_NAME",
    "MANIFEST_FORMAT",
    "read_manifest",
    "is_complete_state",
    "verify_state",
    "find_latest_state",
]

for _public in (
    StateStore,
    PeriodicSaveCondition,
    StatesKeeper,
    LatestStatesKeeper,
    IncompleteStateError,
    DamagedStateError,
    StateSaveError,
    read_manifest,
    is_complete_state,
    verify_state,
    find_latest_state,
):
    _public.__module__ = __name__  # their public home, for reprs and logger names
del _public

assert datetime  # the wall clock of StateStore.save_state, patchable here
