import logging
import threading
import time as std_time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from eventually import Count
from pamiq_core import time
from pamiq_core.console.web_api import ControlCommands
from pamiq_core.state_persistence import LatestStatesKeeper, StateStore
from pamiq_core.thread import ThreadStatus, ThreadTypes
from pamiq_core.thread.threads import ControlThread

from .conftest import System


def make_control(store: StateStore, **kwargs: Any) -> ControlThread:
    """A control thread without a web API (test_control_web_api.py covers that)."""
    kwargs.setdefault("web_api_address", None)
    return ControlThread(store, **kwargs)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "states")


@pytest.fixture
def system(store: StateStore) -> Iterator[System]:
    running = System(make_control(store, timeout_for_all_threads_pause=5.0)).start()
    yield running
    running.stop()


class TestConstruction:
    @pytest.mark.parametrize(
        "argument",
        [
            "timeout_for_all_threads_pause",
            "max_attempts_to_pause_all_threads",
            "max_uptime",
        ],
    )
    def test_negative_numbers_are_rejected_by_name(
        self, store: StateStore, argument: str
    ) -> None:
        arguments: dict[str, Any] = {argument: -1}
        with pytest.raises(ValueError, match=f"{argument} must be non-negative"):
            make_control(store, **arguments)

    def test_controller_is_a_read_only_view(self, store: StateStore) -> None:
        control = make_control(store)
        assert not hasattr(control.controller, "pause")
        assert control.controller.is_resume()


class TestPauseAndResume:
    def test_pause_stops_both_threads_and_time(self, system: System) -> None:
        assert system.control.try_pause()
        assert system.inference.thread_status.is_pause()
        assert system.training.thread_status.is_pause()
        assert time.is_paused()
        assert system.control.try_pause()  # already paused

    def test_resume_starts_time_then_the_threads(self, system: System) -> None:
        system.control.try_pause()
        system.control.resume()
        assert not time.is_paused()
        system.inference.ticks.wait_for(system.inference.ticks.value + 1)

    def test_gives_up_after_the_attempts_and_leaves_the_system_running(
        self, store: StateStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        control = make_control(
            store,
            timeout_for_all_threads_pause=0.01,
            max_attempts_to_pause_all_threads=2,
        )
        never_pauses = ThreadStatus()
        control.attach_thread_statuses({ThreadTypes.INFERENCE: never_pauses.read_only})
        with caplog.at_level(logging.WARNING):
            assert not control.try_pause()
        assert control.controller.is_resume()
        assert not time.is_paused()
        assert "attempt 1 of 2" in caplog.text
        assert "attempt 2 of 2" in caplog.text
        assert "giving up" in caplog.text

    def test_zero_attempts_fail_at_once(self, store: StateStore) -> None:
        control = make_control(store, max_attempts_to_pause_all_threads=0)
        assert not control.try_pause()


class TestSaveState:
    def test_saves_while_paused_then_resumes(
        self, store: StateStore, tmp_path: Path
    ) -> None:
        seen: list[tuple[bool, bool]] = []

        class Probe:
            def save_state(self, path: Path) -> None:
                seen.append((time.is_paused(), control.controller.is_pause()))

            def load_state(self, path: Path) -> None:
                pass

        store.register("probe", Probe())  # type: ignore[arg-type]
        keeper = mock.Mock(spec=LatestStatesKeeper)
        control = make_control(store, states_keeper=keeper)
        running = System(control).start()
        try:
            control.save_state()
            assert seen == [(True, True)]
            assert control.last_saved_state_path is not None
            assert control.last_saved_state_path.parent == tmp_path / "states"
            keeper.append.assert_called_once_with(control.last_saved_state_path)
            assert control.controller.is_resume()
            assert not time.is_paused()
        finally:
            running.stop()

    def test_a_paused_system_stays_paused(self, system: System) -> None:
        system.control.try_pause()
        system.control.save_state()
        assert system.control.controller.is_pause()
        assert time.is_paused()

    def test_nothing_is_saved_when_pausing_fails(self, store: StateStore) -> None:
        control = make_control(store, max_attempts_to_pause_all_threads=0)
        control.save_state()
        assert list(store.states_dir.iterdir()) == []


class TestFailedSave:
    def test_is_counted_kept_and_the_system_runs_on(
        self, store: StateStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        class FullDisk:
            def save_state(self, path: Path) -> None:
                raise OSError(28, "No space left on device", str(path))

            def load_state(self, path: Path) -> None:
                pass

        store.register("probe", FullDisk())  # type: ignore[arg-type]
        keeper = mock.Mock(spec=LatestStatesKeeper)
        control = make_control(store, states_keeper=keeper)
        running = System(control).start()
        try:
            with caplog.at_level(logging.ERROR):
                control.save_state()
                control.save_state()
            failures = control.system_stats.save_failures
            assert failures is not None
            assert failures[0] == 2
            assert "part 'probe'" in failures[2]
            assert "No space left on device" in str(control.last_save_error)
            assert control.last_saved_state_path is None
            keeper.append.assert_not_called()
            assert control.is_running()
            assert control.controller.is_resume()
            assert not time.is_paused()
            assert "2 in a row" in caplog.text
        finally:
            running.stop()
        assert list(store.states_dir.iterdir()) == []

    def test_a_success_resets_the_count_in_a_row(self, store: StateStore) -> None:
        failing = [True]

        class Flaky:
            def save_state(self, path: Path) -> None:
                if failing[0]:
                    raise OSError("flaky disk")

            def load_state(self, path: Path) -> None:
                pass

        store.register("probe", Flaky())  # type: ignore[arg-type]
        control = make_control(store, max_failed_saves_in_a_row=2)
        running = System(control).start()
        try:
            control.save_state()
            failing[0] = False
            control.save_state()
            failing[0] = True
            control.save_state()
            assert control.is_running()
            control.save_state()
            assert not control.is_running()
        finally:
            running.stop()


class TestPauseWhileCommandsArrive:
    def test_a_shutdown_cancels_a_pending_pause(self, store: StateStore) -> None:
        control = make_control(store, timeout_for_all_threads_pause=60.0)
        running = System(control)
        running.training.release_pause_hook.clear()  # the trainer will not pause
        # This thread and `pausing` play the control thread: its loop would take
        # the server's commands too.
        running.start(control_loop=False)
        try:
            server = FakeServer([])
            control._web_api_server = server  # type: ignore[assignment]
            pausing = threading.Thread(
                target=lambda: results.append(control.try_pause())
            )
            results: list[bool] = []
            pausing.start()
            assert running.training.in_pause_hook.wait(30)
            server.commands.append(ControlCommands.SHUTDOWN)
            pausing.join(timeout=30)
            assert results == [False]
            assert not control.is_running()
        finally:
            running.training.release_pause_hook.set()
            running.stop()

    def test_a_resume_cancels_a_pending_pause_and_leaves_the_system_running(
        self, store: StateStore
    ) -> None:
        control = make_control(store, timeout_for_all_threads_pause=60.0)
        running = System(control)
        running.training.release_pause_hook.clear()
        running.start(control_loop=False)
        try:
            server = FakeServer([])
            control._web_api_server = server  # type: ignore[assignment]
            results: list[bool] = []
            pausing = threading.Thread(
                target=lambda: results.append(control.try_pause())
            )
            pausing.start()
            assert running.training.in_pause_hook.wait(30)
            server.commands.append(ControlCommands.RESUME)
            pausing.join(timeout=30)
            assert results == [False]
            assert control.controller.is_resume()
            assert control.is_running()
        finally:
            running.training.release_pause_hook.set()
            running.stop()


class FakeServer:
    """Stands in for the web API server: a list of commands to hand out."""

    def __init__(self, commands: list[ControlCommands]) -> None:
        self.commands = commands

    def has_commands(self) -> bool:
        return bool(self.commands)

    def receive_command(self) -> ControlCommands:
        return self.commands.pop(0)


class TestRun:
    def test_saves_when_the_condition_says_so(self, store: StateStore) -> None:
        answers = iter([False, True] + [False] * 1_000_000)
        saved = threading.Event()
        control = make_control(
            store,
            save_state_condition=lambda: next(answers),
            events=lambda kind, _: saved.set() if kind == "save" else None,
        )
        running = System(control).start()
        try:
            assert saved.wait(30), "the control thread never saved"
            assert len(list(store.states_dir.iterdir())) == 1
        finally:
            running.stop()

    def test_cleans_up_with_the_keeper_every_tick(self, store: StateStore) -> None:
        keeper = mock.Mock(spec=LatestStatesKeeper)
        control = make_control(store, states_keeper=keeper, max_uptime=0.1)
        System(control).start().runner.join(timeout=10)
        assert keeper.cleanup.call_count >= 2

    def test_stops_after_max_uptime(self, store: StateStore) -> None:
        control = make_control(store, max_uptime=0.1)
        running = System(control)
        started = std_time.perf_counter()
        running.start().runner.join(timeout=10)
        elapsed = std_time.perf_counter() - started
        assert elapsed > 0.1
        assert elapsed < 2.0  # far less in practice; generous for a loaded machine
        for thread in (running.inference, running.training):
            thread.join(timeout=10)
            assert not thread.is_alive()

    def test_max_uptime_counts_pamiq_time(self, store: StateStore) -> None:
        time.set_time_scale(20.0)
        control = make_control(store, max_uptime=2.0)
        running = System(control)
        started = std_time.perf_counter()
        running.start().runner.join(timeout=10)
        assert std_time.perf_counter() - started < 1.5  # 2 pamiq s = 0.1 real s

    def test_shuts_down_when_a_background_thread_dies(
        self, store: StateStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        running = System(make_control(store))
        running.training.fail_on_tick = RuntimeError("trainer crashed")
        with caplog.at_level(logging.ERROR):
            running.start()
            running.runner.join(timeout=10)
        assert not running.runner.is_alive()
        assert "The system will terminate immediately." in caplog.text
        running.inference.join(timeout=10)
        assert not running.inference.is_alive()

    def test_an_exception_in_the_control_thread_shuts_down_and_propagates(
        self, store: StateStore
    ) -> None:
        def broken_condition() -> bool:
            raise OSError("cannot decide")

        running = System(make_control(store, save_state_condition=broken_condition))
        running.start()
        running.runner.join(timeout=10)
        assert isinstance(running.error, OSError)
        running.inference.join(timeout=10)
        assert not running.inference.is_alive()

    def test_an_idle_control_loop_barely_uses_the_cpu(self, store: StateStore) -> None:
        control = make_control(store, max_uptime=0.5)
        control.attach_thread_statuses({})
        cpu = std_time.thread_time()
        control.run()  # in this thread
        assert std_time.thread_time() - cpu < 0.2  # 0.6 spins: about 0.5 s of CPU

    def test_wake_runs_the_next_tick_at_once(self, store: StateStore) -> None:
        ticks = Count("control ticks")

        def condition() -> bool:
            ticks.add()
            return False

        control = make_control(store, save_state_condition=condition)
        control.TICK_INTERVAL = 60.0  # type: ignore[misc]
        running = System(control).start()
        try:
            ticks.wait_for(1)
            control.wake()
            ticks.wait_for(2, timeout=30.0)  # within half the interval: it woke
        finally:
            running.stop()
