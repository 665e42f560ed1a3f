"""Fault drills: what a running system keeps and loses when things go wrong.

Each drill drives a real ``launch()`` (web API on loopback) and prints figures:

1. torn: four clients post ``/api/save-state`` back to back; every snapshot is
   checked for consistency between its parts (the environment's count, saved in
   the interaction part, must equal the newest item of the buffer, saved later).
2. failed saves: every other save fails as on a full disk; the system must stay up.
3. restart: a run with ``PeriodicSaveCondition`` is resumed after downtime
   (emulated by moving the pamiq clock of the new run ahead, as a new process's
   clock would be); periodic saves must go on.
4. hung trainer: a trainer that never returns; ``launch()`` must return within
   ``shutdown_timeout`` with the error, having saved what it safely could.

The connection flood drill is ``benchmarks/flood.py``.

Usage: python benchmarks/faults.py [--quick] [--seconds S] [--rounds R]
"""

import argparse
import errno
import logging
import socket
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import httpx

from _machine import describe_machine
from pamiq_core import (
    Agent,
    Environment,
    Interaction,
    LaunchConfig,
    Trainer,
    launch,
)
from pamiq_core import time as pamiq_time
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.launcher import ShutdownTimeoutError
from pamiq_core.state_persistence import (
    PeriodicSaveCondition,
    is_complete_state,
    load_pickle,
    read_manifest,
    save_pickle,
)


class Counter(Environment[int, int]):
    def __init__(self) -> None:
        self.count = 0
        self.full_disk = False
        self.stopped = False
        self.saves = 0

    def observe(self) -> int:
        self.count += 1
        return self.count

    def affect(self, action: int) -> None:
        pass

    def save_state(self, path: Path) -> None:
        self.saves += 1
        if self.full_disk and self.saves % 2 == 0 and not self.stopped:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        save_pickle(self.count, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.count = load_pickle(path.with_suffix(".pkl"))

    def teardown(self) -> None:
        self.stopped = True  # the final save succeeds: this drill is about the run


class Collecting(Agent[int, int]):
    def on_data_collectors_attached(self) -> None:
        self.numbers: DataCollector[int] = self.get_data_collector("numbers")

    def step(self, observation: int) -> int:
        self.numbers.collect(observation)
        threading.Event().wait(0.0005)
        return observation


class Consuming(Trainer):
    def __init__(self) -> None:
        super().__init__("numbers", min_buffer_size=1, min_new_data_count=1)
        self.hang = threading.Event()
        self.release = threading.Event()

    def on_data_users_attached(self) -> None:
        self.numbers = self.get_data_user("numbers")

    def train(self) -> None:
        self.numbers.get_data()
        if self.hang.is_set():
            self.release.wait()


class System:
    def __init__(self) -> None:
        self.env = Counter()
        self.trainer = Consuming()

    def launch(self, **config: Any) -> None:
        config.setdefault("web_api_address", None)
        launch(
            Interaction(Collecting(), self.env),
            {},
            {"numbers": SequentialBuffer[int](100_000)},
            {"consuming": self.trainer},
            LaunchConfig(**config),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshots(states: Path) -> list[Path]:
    return sorted(p for p in states.iterdir() if is_complete_state(p))


def is_torn(path: Path) -> bool:
    count = load_pickle(path / "interaction" / "environment.pkl")
    items: deque[int] = load_pickle(path / "data" / "numbers" / "buffer.pkl")
    return (items[-1] if items else 0) != count


def wait_for_api(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/status", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise RuntimeError("the web API did not come up")


def torn_drill(seconds: float) -> tuple[int, int]:
    """Snapshots taken and torn while four clients ask for saves for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        states = Path(tmp)
        port = free_port()
        runner = threading.Thread(
            target=System().launch,
            kwargs={
                "states_dir": states,
                "web_api_address": ("localhost", port),
                "web_api_command_queue_size": 8,
            },
        )
        runner.start()
        url = f"http://localhost:{port}/api"
        wait_for_api(url)
        stop = threading.Event()

        def ask() -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    client.post(f"{url}/save-state")

        clients = [threading.Thread(target=ask) for _ in range(4)]
        for client in clients:
            client.start()
        stop.wait(seconds)
        stop.set()
        for client in clients:
            client.join()
        httpx.post(f"{url}/shutdown", timeout=60)
        runner.join()
        taken = snapshots(states)
        return len(taken), sum(is_torn(p) for p in taken)


def failed_saves_drill(seconds: float) -> tuple[int, int, bool]:
    """Saves attempted and failed (every other one) over ``seconds``; still alive?"""
    with tempfile.TemporaryDirectory() as tmp:
        system = System()
        system.env.full_disk = True
        alive = threading.Event()
        condition = PeriodicSaveCondition(0.05)

        def check() -> bool:
            alive.set()
            return condition()

        system.launch(states_dir=tmp, save_state_condition=check, max_uptime=seconds)
        attempts = system.env.saves - 1  # the final save is not a periodic one
        failed = attempts // 2
        return attempts, failed, alive.is_set() and len(snapshots(Path(tmp))) > 0


def restart_drill(seconds: float, downtime: float) -> tuple[int, int]:
    """Periodic saves in a fresh run and in a run resumed after ``downtime``."""
    with tempfile.TemporaryDirectory() as tmp:
        states = Path(tmp)
        System().launch(
            states_dir=states,
            save_state_condition=PeriodicSaveCondition(seconds / 4),
            max_uptime=seconds,
        )
        fresh = len(snapshots(states)) - 1
        now = pamiq_time.state_dict()
        pamiq_time.load_state_dict(
            {key: value + downtime for key, value in now.items()}  # type: ignore[misc]
        )
        before = len(snapshots(states))
        System().launch(
            states_dir=states,
            saved_state_path="latest",
            save_state_condition=PeriodicSaveCondition(seconds / 4),
            max_uptime=seconds,
        )
        resumed = len(snapshots(states)) - before - 1
        return fresh, resumed


def hung_trainer_drill(timeout: float) -> tuple[float, str, list[str]]:
    """Real seconds from the shutdown to ``launch`` returning, the error, saved parts."""
    with tempfile.TemporaryDirectory() as tmp:
        system = System()
        system.trainer.hang.set()
        started = time.monotonic()
        error = ""
        try:
            system.launch(states_dir=tmp, max_uptime=0.3, shutdown_timeout=timeout)
        except ShutdownTimeoutError as e:
            error = str(e)
        finally:
            system.trainer.release.set()
        elapsed = time.monotonic() - started - 0.3
        [final] = snapshots(Path(tmp))
        manifest = read_manifest(final) or {}
        return elapsed, error, list(manifest.get("components", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for CI")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--downtime", type=float, default=15.0)
    args = parser.parse_args()
    seconds, rounds = (1.0, 1) if args.quick else (args.seconds, args.rounds)
    logging.basicConfig(level=logging.CRITICAL)
    print(f"machine: {describe_machine()}")

    print("\n| drill | figure |\n|---|---|")
    taken = torn = 0
    for _ in range(rounds):
        t, n = torn_drill(seconds)
        taken, torn = taken + t, torn + n
    print(
        f"| torn snapshots ({rounds} x {seconds:g} s, 4 clients) | {torn} of {taken} |"
    )
    attempts, failed, alive = failed_saves_drill(seconds)
    print(
        f"| failed saves ({seconds:g} s, every other save fails) | {failed} of "
        f"{attempts} failed, system {'alive' if alive else 'DEAD'} |"
    )
    fresh, resumed = restart_drill(seconds, args.downtime)
    print(
        f"| periodic saves (every {seconds / 4:g} s for {seconds:g} s) | fresh run "
        f"{fresh}, after {args.downtime:g} s of downtime {resumed} |"
    )
    timeout = 1.0 if args.quick else 5.0
    elapsed, error, parts = hung_trainer_drill(timeout)
    print(
        f"| hung trainer, shutdown_timeout {timeout:g} s | launch returned "
        f"{elapsed:.2f} s after the shutdown; saved {parts}; "
        f"{'ShutdownTimeoutError' if error else 'NO ERROR'} |"
    )


if __name__ == "__main__":
    main()
