"""A running system survives the faults it should, and never writes a torn snapshot."""

import errno
import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time as std_time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pamiq_core import time
from pamiq_core.launcher import ShutdownTimeoutError
from pamiq_core.state_persistence import (
    MANIFEST_NAME,
    LatestStatesKeeper,
    PeriodicSaveCondition,
    find_latest_state,
    is_complete_state,
    load_pickle,
    read_manifest,
)
from pamiq_core.thread.threads.control import SaveFailedError

sys.path.insert(0, str(Path(__file__).parent))
from eventually import eventually
from launcher_system import Counter, System

CHILD = Path(__file__).parent / "launcher_system.py"


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


@pytest.fixture
def states(tmp_path: Path) -> Path:
    return tmp_path / "states"


def snapshots(states: Path) -> list[Path]:
    return sorted(p for p in states.iterdir() if is_complete_state(p))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FailingCounter(Counter):
    """An environment whose saves fail as on a full disk while ``full`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.full = threading.Event()

    def save_state(self, path: Path) -> None:
        if self.full.is_set():
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        super().save_state(path)


def torn_snapshots(taken: list[Path]) -> list[tuple[str, int, int]]:
    """Snapshots whose environment count is not the newest collected item.

    The environment's count is saved in the interaction part, the collected items
    in the data part, later; a step run between the two makes them differ.
    """
    torn = []
    for path in taken:
        count = load_pickle(path / "interaction" / "environment.pkl")
        items: deque[int] = load_pickle(path / "data" / "numbers" / "buffer.pkl")
        newest = items[-1] if items else 0
        if newest != count:
            torn.append((path.name, count, newest))
    return torn


class TestSnapshotsAreNeverTorn:
    def test_back_to_back_saves_with_resumes_in_between(self, states: Path) -> None:
        """Four clients ask for saves as fast as they can; no snapshot is torn."""
        system = System()
        port = free_port()
        runner = threading.Thread(
            target=system.launch,
            kwargs={
                "states_dir": states,
                "web_api_address": ("localhost", port),
                "web_api_command_queue_size": 8,
            },
            daemon=True,
        )
        runner.start()
        url = f"http://localhost:{port}/api"
        eventually(lambda: _answers(f"{url}/status"), what="the web API to answer")
        stop = threading.Event()

        def ask_for_saves() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    client.post(f"{url}/save-state")

        clients = [threading.Thread(target=ask_for_saves) for _ in range(4)]
        for client in clients:
            client.start()
        eventually(lambda: len(list(states.iterdir())) >= 60, what="60 snapshots")
        stop.set()
        for client in clients:
            client.join(timeout=30)
        httpx.post(f"{url}/shutdown", timeout=30)
        runner.join(timeout=60)
        taken = snapshots(states)
        torn = torn_snapshots(taken)
        assert torn == [], f"{len(torn)} of {len(taken)} snapshots were torn"


class TestFailedSaves:
    def test_a_failed_save_is_logged_and_the_system_runs_on(
        self, states: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        system = System()
        env = FailingCounter()
        system.env = env
        system.interaction.environment = env
        saves: list[bool] = []

        def condition() -> bool:
            # save once, then fail twice, then save again
            if len(saves) < 4 and system.agent.steps > len(saves) * 5:
                if len(saves) == 1:
                    env.full.set()
                if len(saves) == 3:
                    env.full.clear()
                saves.append(True)
                return True
            return False

        with caplog.at_level(logging.ERROR):
            system.launch(
                states_dir=states, save_state_condition=condition, max_uptime=1.0
            )
        assert len(saves) == 4
        assert len(snapshots(states)) == 3  # two saves and the final one
        failures = [
            r for r in caplog.records if "Saving a state failed" in r.getMessage()
        ]
        assert len(failures) == 2
        message = failures[0].getMessage()
        assert "part 'interaction'" in message
        assert str(states) in message
        assert "No space left on device" in message
        assert "keeps running" in message

    def test_repeated_failures_stop_the_system_when_configured(
        self, states: Path
    ) -> None:
        system = System()
        env = FailingCounter()
        env.full.set()
        system.env = env
        system.interaction.environment = env
        with pytest.raises(SaveFailedError, match="2 saves failed in a row") as info:
            system.launch(
                states_dir=states,
                save_state_condition=lambda: True,
                max_failed_saves_in_a_row=2,
            )
        assert isinstance(info.value.__cause__, Exception)
        assert "No space left" in str(info.value)


class TestPeriodicSavesAfterARestart:
    def test_count_from_the_start_however_far_behind_the_loaded_clock_is(
        self, states: Path
    ) -> None:
        System().launch(states_dir=states, max_uptime=0.2)
        # 15 s of downtime: the pamiq clock of a new process is 15 s ahead of the
        # clock in the snapshot
        now = time.state_dict()
        time.load_state_dict({key: value + 15.0 for key, value in now.items()})  # type: ignore[misc]
        before = set(snapshots(states))
        System().launch(
            states_dir=states,
            saved_state_path="latest",
            save_state_condition=PeriodicSaveCondition(0.1),
            max_uptime=0.85,
        )
        periodic = set(snapshots(states)) - before
        assert len(periodic) >= 1 + 4  # the final save and one per 0.1 s, at least 4


class TestSigterm:
    def test_sigterm_shuts_down_with_a_final_save(self, states: Path) -> None:
        with subprocess.Popen(
            [sys.executable, str(CHILD), str(states), "normal"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "running"
            child.send_signal(signal.SIGTERM)
            try:
                _, errors = child.communicate(timeout=60)
            finally:
                child.kill()
        assert child.returncode == 0, errors
        latest = find_latest_state(states)
        assert latest is not None
        manifest = read_manifest(latest)
        assert manifest is not None
        assert "after_error" not in manifest


class TestShutdownDeadline:
    def test_a_hung_trainer_cannot_keep_launch_from_returning(
        self, states: Path
    ) -> None:
        system = System()
        system.trainer.block = threading.Event()  # never set while launch runs
        started = std_time.monotonic()
        try:
            with pytest.raises(ShutdownTimeoutError) as info:
                system.launch(states_dir=states, max_uptime=0.3, shutdown_timeout=1.0)
        finally:
            system.trainer.block.set()
        assert std_time.monotonic() - started < 10.0
        message = str(info.value)
        assert "training thread did not stop within 1.0 s" in message
        assert "trainer 'counting'" in message
        [final] = snapshots(states)
        manifest = read_manifest(final)
        assert manifest is not None
        assert manifest["components"] == ["interaction", "time", "tracking", "random"]
        assert manifest["skipped"] == {
            part: "the training thread did not stop"
            for part in ("models", "data", "trainers")
        }
        assert find_latest_state(states) is None  # a partial snapshot is not latest

    def test_commands_are_answered_while_a_pause_is_pending(self, states: Path) -> None:
        system = System()
        system.trainer.block = threading.Event()
        port = free_port()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                system.launch(
                    states_dir=states,
                    web_api_address=("localhost", port),
                    timeout_for_all_threads_pause=60.0,
                    shutdown_timeout=1.0,
                )
            except BaseException as e:
                errors.append(e)

        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        try:
            system.trainer.training.wait(30)
            url = f"http://localhost:{port}/api"
            eventually(lambda: _answers(f"{url}/status"), what="the web API to answer")
            httpx.post(f"{url}/pause", timeout=30)  # pending: the trainer never pauses
            started = std_time.monotonic()
            httpx.post(f"{url}/shutdown", timeout=30)
            runner.join(timeout=30)
        finally:
            system.trainer.block.set()
        assert not runner.is_alive()
        assert std_time.monotonic() - started < 15.0  # not 3 x 60 s of pause attempts
        assert len(errors) == 1
        assert isinstance(errors[0], ShutdownTimeoutError)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).is_success
    except httpx.HTTPError:
        return False


class TestSmallOnes:
    def test_the_keeper_also_counts_the_final_save(self, states: Path) -> None:
        saves = iter(range(6))
        System().launch(
            states_dir=states,
            save_state_condition=lambda: next(saves, None) is not None,
            states_keeper=LatestStatesKeeper(states, max_keep=2),
            max_uptime=0.5,
        )
        assert len(snapshots(states)) == 2

    def test_a_busy_port_refuses_to_start_naming_it(self, states: Path) -> None:
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            system = System()
            with pytest.raises(OSError, match=f"localhost:{port}"):
                system.launch(states_dir=states, web_api_address=("localhost", port))
        assert system.agent.steps == 0
        assert snapshots(states) == []

    def test_a_busy_port_may_be_allowed_explicitly(self, states: Path) -> None:
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            system = System()
            system.launch(
                states_dir=states,
                web_api_address=("localhost", port),
                web_api_required=False,
                max_uptime=0.3,
            )
        assert system.agent.steps > 0

    def test_several_failures_are_raised_together_catchable_as_the_first(
        self, states: Path
    ) -> None:
        system = System()
        trainer_failed = threading.Event()

        def train() -> None:
            trainer_failed.set()
            raise ValueError("the trainer broke")

        def step(observation: int) -> float:
            trainer_failed.wait(30)  # inside a step, so the shutdown cannot stop it
            raise RuntimeError("the agent broke")

        system.trainer.training_condition_data_user = None  # trains at once
        system.trainer.train = train  # type: ignore[method-assign]
        system.agent.step = step  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="agent broke") as info:
            system.launch(states_dir=states)
        assert isinstance(info.value, ExceptionGroup)
        assert [str(e) for e in info.value.exceptions] == [
            "the agent broke",
            "the trainer broke",
        ]

    def test_latest_can_skip_snapshots_saved_after_an_error(self, states: Path) -> None:
        System().launch(states_dir=states, max_uptime=0.2)
        [good] = snapshots(states)
        failing = System()
        failing.agent.fail_at = 3
        with pytest.raises(RuntimeError):
            failing.launch(states_dir=states)
        assert find_latest_state(states) != good
        resumed = System()
        resumed.launch(
            states_dir=states,
            saved_state_path="latest",
            skip_saved_after_error=True,
            max_uptime=0.1,
        )
        manifest = json.loads((good / MANIFEST_NAME).read_text())
        assert "after_error" not in manifest
        assert resumed.env.count >= load_pickle(
            good / "interaction" / "environment.pkl"
        )


def test_background_threads_are_daemons(states: Path) -> None:
    seen: list[bool] = []
    system = System()
    original = system.agent.step

    def step(observation: int) -> float:
        seen.append(threading.current_thread().daemon)
        return original(observation)

    system.agent.step = step  # type: ignore[method-assign]
    system.launch(states_dir=states, max_uptime=0.1)
    assert seen
    assert all(seen)
