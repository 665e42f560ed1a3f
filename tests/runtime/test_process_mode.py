"""training="process": the training side runs in processes of its own."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time as std_time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pamiq_core import time
from pamiq_core.runtime.process_link import TrainingProcessError
from pamiq_core.state_persistence import (
    find_latest_state,
    is_complete_state,
    load_pickle,
    read_manifest,
)

sys.path.insert(0, str(Path(__file__).parents[1]))
from eventually import eventually
from process_system import System
from runtime.running import run_until_trained

PROCESS = {"training": "process"}


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


def consumer_state(snapshot: Path) -> tuple[int, list[int], int]:
    return load_pickle(snapshot / "trainers" / "consumer" / "consumer.pkl")


class TestEndToEnd:
    def test_the_trainer_receives_exactly_what_was_collected_in_order(
        self, states: Path
    ) -> None:
        system = System()
        run_until_trained(system.launch, 20, states_dir=states, **PROCESS)
        final = find_latest_state(states)
        assert final is not None
        runs, seen, pid = consumer_state(final)
        collected = load_pickle(final / "interaction" / "environment.pkl")
        assert collected == system.agent.steps > 50
        buffer = load_pickle(final / "data" / "numbers" / "buffer.pkl")
        assert list(buffer) == list(range(1, collected + 1))  # none lost or doubled
        assert seen == list(range(1, len(seen) + 1))  # trained on in order
        assert len(seen) > 0
        assert pid != os.getpid()  # it trained in another process
        assert runs > 1

    def test_the_objects_passed_to_launch_end_as_trained(self, states: Path) -> None:
        # What trained in the process is loaded back from the final snapshot, so
        # after launch() returns the caller's objects look as in thread mode.
        system = System()
        run_until_trained(system.launch, 20, states_dir=states, **PROCESS)
        final = find_latest_state(states)
        assert final is not None
        runs, seen, pid = consumer_state(final)
        assert (system.trainer.runs, system.trainer.seen) == (runs, seen)
        assert system.trainer.pid == pid != os.getpid()
        assert system.model.factor == load_pickle(final / "models" / "scale.pkl")
        assert list(system.buffer.get_data()) == list(range(1, system.agent.steps + 1))

    def test_parameters_reach_the_agent_after_each_sync(self, states: Path) -> None:
        system = System()
        run_until_trained(system.launch, 20, states_dir=states, **PROCESS)
        # the model's factor is the number of items trained on, so every sync that
        # reached the agent shows as a new factor
        assert len(system.agent.factors_seen) > 5
        final = find_latest_state(states)
        assert final is not None
        trained = load_pickle(final / "models" / "scale.pkl")
        # the last sync reached the agent's model too (it came before the stop)
        assert system.model.inference_model.factor == trained
        assert trained >= max(system.agent.factors_seen)

    def test_a_snapshot_has_the_layout_of_thread_mode(self, tmp_path: Path) -> None:
        layouts = []
        for mode in ("thread", "process"):
            states = tmp_path / mode
            System().launch(states_dir=states, max_uptime=0.3, training=mode)
            final = find_latest_state(states)
            assert final is not None
            layouts.append(sorted(str(p.relative_to(final)) for p in final.rglob("*")))
        assert layouts[0] == layouts[1]

    @pytest.mark.parametrize(
        ("first", "second"), [("thread", "process"), ("process", "thread")]
    )
    def test_a_snapshot_of_one_mode_resumes_in_the_other(
        self, states: Path, first: str, second: str
    ) -> None:
        run_until_trained(System().launch, 5, states_dir=states, training=first)
        saved = find_latest_state(states)
        assert saved is not None
        _, seen_before, _ = consumer_state(saved)
        resumed = System()
        run_until_trained(
            resumed.launch,
            consumer_state(saved)[0] + 5,  # runs continue from the saved count
            states_dir=states,
            saved_state_path="latest",
            training=second,
        )
        final = find_latest_state(states)
        assert final is not None
        assert final != saved
        _, seen_after, _ = consumer_state(final)
        assert seen_after[: len(seen_before)] == seen_before
        assert seen_after == list(range(1, len(seen_after) + 1))
        assert len(seen_after) > len(seen_before)


class TestControl:
    def test_pause_resume_save_and_shutdown_over_the_web_api(
        self, states: Path
    ) -> None:
        system = System()
        port = _free_port()
        errors: list[BaseException] = []
        runner = threading.Thread(
            target=_run,
            args=(system, errors),
            kwargs={
                "states_dir": states,
                "web_api_address": ("localhost", port),
                **PROCESS,
            },
            daemon=True,
        )
        runner.start()
        url = f"http://localhost:{port}/api"
        eventually(lambda: _metrics(url) is not None, what="the web API")
        eventually(
            lambda: _metrics(url)["trainers"]["consumer"]["runs"] > 0, what="a run"
        )
        assert httpx.post(f"{url}/pause", timeout=30).is_success
        eventually(
            lambda: _metrics(url)["system"]["status_name"] == "paused", what="paused"
        )
        paused = _metrics(url)
        assert httpx.post(f"{url}/save-state", timeout=60).is_success
        eventually(lambda: len(snapshots(states)) == 1, what="a snapshot")
        again = _metrics(url)
        assert (
            again["trainers"]["consumer"]["runs"]
            == paused["trainers"]["consumer"]["runs"]
        )
        assert again["inference"]["steps"] == paused["inference"]["steps"]
        assert httpx.post(f"{url}/resume", timeout=30).is_success
        runs = paused["trainers"]["consumer"]["runs"]
        eventually(
            lambda: _metrics(url)["trainers"]["consumer"]["runs"] > runs,
            what="runs after resume",
        )
        metrics = _metrics(url)
        assert metrics["buffers"]["numbers"]["size"] > 0
        assert metrics["models"]["scale"]["syncs"] > 0
        assert httpx.post(f"{url}/shutdown", timeout=30).is_success
        runner.join(timeout=60)
        assert not runner.is_alive()
        assert errors == []
        [paused_snapshot, _final] = snapshots(states)
        _, seen, _ = consumer_state(paused_snapshot)
        count = load_pickle(paused_snapshot / "interaction" / "environment.pkl")
        buffer = load_pickle(paused_snapshot / "data" / "numbers" / "buffer.pkl")
        assert list(buffer) == list(range(1, count + 1))  # consistent across processes
        assert seen == list(range(1, len(seen) + 1))

    def test_pamiq_time_follows_the_launching_process(self, states: Path) -> None:
        system = System()
        run_until_trained(
            system.launch, 10, states_dir=states, time_scale=4.0, **PROCESS
        )
        final = find_latest_state(states)
        assert final is not None
        # the trainer's previous training time is in pamiq time, the same clock as
        # the saved one (within the last fraction of a second of the run)
        previous = float(
            (final / "trainers" / "consumer" / "previous_training_time").read_text()
        )
        clock = load_pickle(final / "time.pkl")["scaled_anchor_time"]
        assert clock - 2.0 < previous <= clock


def _run(system: System, errors: list[BaseException], **config: Any) -> None:
    try:
        system.launch(**config)
    except BaseException as e:
        errors.append(e)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metrics(url: str) -> Any:
    try:
        response = httpx.get(f"{url}/metrics", timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.is_success else None


class TestFailures:
    def test_a_trainer_error_surfaces_with_its_type_and_the_child_traceback(
        self, states: Path
    ) -> None:
        system = System(fail_at=3)
        with pytest.raises(ValueError, match="trainer failed at run 3") as info:
            system.launch(states_dir=states, **PROCESS)
        notes = "\n".join(info.value.__notes__)
        assert "Raised in the training process training[consumer]" in notes
        assert "process_system.py" in notes  # the child's traceback
        final = find_latest_state(states)
        assert final is not None  # the final save kept every part
        manifest = read_manifest(final)
        assert manifest is not None
        assert "skipped" not in manifest

    def test_a_killed_process_is_detected_and_named(self, states: Path) -> None:
        system = System(kill_at=3)
        started = std_time.monotonic()
        with pytest.raises(TrainingProcessError) as info:
            system.launch(states_dir=states, **PROCESS)
        assert std_time.monotonic() - started < 20
        message = str(info.value)
        assert "training[consumer]" in message
        assert "['consumer']" in message
        assert "SIGKILL" in message
        [final] = snapshots(states)
        manifest = read_manifest(final)
        assert manifest is not None
        assert sorted(manifest["skipped"]) == ["data", "models", "trainers"]
        assert "interaction" in manifest["components"]

    def test_a_hung_trainer_meets_the_shutdown_deadline(self, states: Path) -> None:
        from pamiq_core.launcher import ShutdownTimeoutError

        system = System(hang_at=2)
        started = std_time.monotonic()
        with pytest.raises(ShutdownTimeoutError, match=r"training\[consumer\]"):
            run_until_trained(
                system.launch, 1, states_dir=states, shutdown_timeout=1.0, **PROCESS
            )
        assert std_time.monotonic() - started < 120

    def test_a_shutdown_while_a_process_starts_saves_what_it_was_sent(
        self, states: Path
    ) -> None:
        system = System()
        system.launch(states_dir=states, max_uptime=0.0, **PROCESS)
        final = find_latest_state(states)
        assert final is not None  # complete: nothing was left out
        runs, seen, _ = consumer_state(final)
        assert (runs, seen) == (0, [])

    def test_an_unpicklable_trainer_is_named_before_anything_runs(
        self, states: Path
    ) -> None:
        system = System()
        system.trainer.lock = threading.Lock()  # type: ignore[attr-defined]
        with pytest.raises(TypeError, match=r"trainer 'consumer'.*attribute 'lock'"):
            system.launch(states_dir=states, **PROCESS)
        assert system.agent.steps == 0
        assert list(states.iterdir()) == []

    def test_an_unguarded_main_module_is_refused(self, tmp_path: Path) -> None:
        script = tmp_path / "unguarded.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import sys
                sys.path.insert(0, {str(Path(__file__).parents[1])!r})
                from process_system import System
                System().launch(states_dir={str(tmp_path / "s")!r}, training="process")
                """
            )
        )
        result = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0
        assert "unguarded.py, line 5, calls launch() at the top level" in result.stderr
        assert 'if __name__ == "__main__":' in result.stderr


def test_no_training_process_outlives_a_killed_launcher(tmp_path: Path) -> None:
    """Once started, a training process dies with its launcher (within 2 s)."""
    port = _free_port()
    script = tmp_path / "launcher.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parents[1])!r})
            from process_system import System

            if __name__ == "__main__":
                System().launch(
                    states_dir={str(tmp_path / "s")!r},
                    training="process",
                    web_api_address=("localhost", {port}),
                )
            """
        )
    )
    url = f"http://localhost:{port}/api"
    with subprocess.Popen([sys.executable, str(script)]) as launcher:
        try:
            eventually(
                lambda: (
                    (_metrics(url) or {})
                    .get("trainers", {})
                    .get("consumer", {})
                    .get("runs", 0)
                    > 0
                ),
                timeout=120,
                what="a training run in the training process",
            )
            [child] = _children(launcher.pid)
            launcher.send_signal(signal.SIGKILL)
            launcher.wait(timeout=30)
            killed = std_time.monotonic()
            eventually(lambda: not _alive(child), timeout=10, what="the orphan to exit")
            assert std_time.monotonic() - killed < 2.0
        finally:
            launcher.kill()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            command = (entry / "cmdline").read_bytes()
            if int(stat.split(")")[-1].split()[1]) == pid and b"spawn_main" in command:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
