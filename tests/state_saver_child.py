"""A process that saves states in a loop until it is killed.

Run by ``test_state_persistence_kill.py``: ``python state_saver_child.py DIR KEEP``.
Each snapshot holds a counter in two parts, one of them a large file, so a test can
tell whether a loaded snapshot is complete and consistent.
"""

import hashlib
import sys
from pathlib import Path

from pamiq_core.state_persistence import (
    LatestStatesKeeper,
    PersistentStateMixin,
    StateStore,
    find_latest_state,
)

BLOB_SIZE = 512 * 1024


class Counter(PersistentStateMixin):
    def __init__(self) -> None:
        self.value = 0

    def save_state(self, path: Path) -> None:
        path.mkdir()
        (path / "value").write_text(str(self.value))

    def load_state(self, path: Path) -> None:
        self.value = int((path / "value").read_text())


class Blob(PersistentStateMixin):
    """A large file whose every byte derives from the counter, plus its digest."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.value = -1

    @staticmethod
    def content(value: int) -> bytes:
        return bytes([value % 251]) * BLOB_SIZE

    def save_state(self, path: Path) -> None:
        path.mkdir()
        data = self.content(self.counter.value)
        for part in range(4):  # several files, written one after another
            (path / f"part{part}").write_bytes(data)
        (path / "digest").write_text(hashlib.sha256(data).hexdigest())
        (path / "value").write_text(str(self.counter.value))

    def load_state(self, path: Path) -> None:
        self.value = int((path / "value").read_text())
        expected = self.content(self.value)
        digest = (path / "digest").read_text()
        if digest != hashlib.sha256(expected).hexdigest():
            raise ValueError(f"digest mismatch in {path}")
        for part in range(4):
            if (path / f"part{part}").read_bytes() != expected:
                raise ValueError(f"corrupt blob part {part} in {path}")


def make_store(states_dir: Path) -> tuple[StateStore, Counter, Blob]:
    counter = Counter()
    blob = Blob(counter)
    store = StateStore(states_dir)
    store.register("counter", counter)
    store.register("blob", blob)
    return store, counter, blob


def main() -> None:
    states_dir, keep = Path(sys.argv[1]), int(sys.argv[2])
    store, counter, _ = make_store(states_dir)
    keeper = LatestStatesKeeper(states_dir, keep) if keep >= 0 else None
    latest = find_latest_state(states_dir)
    if latest is not None:
        store.load_state(latest)
    print("ready", flush=True)
    while True:
        counter.value += 1
        path = store.save_state()
        if keeper is not None:
            keeper.append(path)
            keeper.cleanup()


if __name__ == "__main__":
    main()
