"""Crash safety, the hard way: kill a saving process at random moments.

A child process saves snapshots in a loop. It is killed with SIGKILL at random
moments, many times. After every kill, the newest complete snapshot must load and be
consistent, every earlier complete snapshot must be intact (or removed whole by the
states keeper), and no folder under a snapshot name may be half-written.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pamiq_core.state_persistence import find_latest_state, is_complete_state

sys.path.insert(0, str(Path(__file__).parent))
from state_saver_child import make_store

ROUNDS = int(os.environ.get("PAMIQ_KILL_TEST_ROUNDS", "20"))
CHILD = Path(__file__).parent / "state_saver_child.py"


def run_and_kill(states_dir: Path, keep: int, rng: random.Random) -> None:
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(states_dir), str(keep)],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            # The kill lands at a random moment of the saving loop: the moment is
            # what the test varies, not a wait for anything to settle.
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)


def load_counter(path: Path) -> int:
    store, counter, blob = make_store(path.parent)
    store.load_state(path)
    assert counter.value == blob.value, f"{path} mixes two saves"
    return counter.value


@pytest.mark.parametrize("keep", [-1, 2], ids=["no keeper", "keeper keeps 2"])
def test_killed_saves_never_lose_or_corrupt_a_complete_state(
    tmp_path: Path, keep: int
) -> None:
    rng = random.Random(keep)
    states_dir = tmp_path / "states"
    states_dir.mkdir()
    seen: dict[Path, int] = {}
    interrupted = 0
    for _ in range(ROUNDS):
        run_and_kill(states_dir, keep, rng)

        names = [p for p in states_dir.iterdir() if not p.name.startswith(".")]
        assert all(is_complete_state(p) for p in names), "half-written snapshot"
        interrupted += any(p.name.startswith(".") for p in states_dir.iterdir())

        latest = find_latest_state(states_dir)
        if seen:
            assert latest is not None
        if latest is not None:
            value = load_counter(latest)
            assert value >= max(seen.values(), default=0)

        for path in names:
            value = load_counter(path)
            assert seen.setdefault(path, value) == value
        for path in seen:
            if keep < 0:
                assert path.exists(), f"{path} disappeared"
    assert seen, "the child never completed a save"
    assert interrupted > 0, "no kill landed in the middle of a save"
