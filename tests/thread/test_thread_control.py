import logging
import threading
from unittest import mock

import pytest

from pamiq_core.thread import (
    ControllerCommandHandler,
    ReadOnlyController,
    ReadOnlyThreadStatus,
    ThreadController,
    ThreadEventMixin,
    ThreadStatus,
    ThreadStatusesMonitor,
    ThreadTypes,
    thread_control,
)

WAIT = 20.0
"""Real seconds a test waits for another thread before failing (a guard, not a pause)."""


def start(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


class Hooks:
    """Pause and resume hooks that log their calls and set an event for each."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.paused = threading.Event()
        self.resumed = threading.Event()

    def on_paused(self) -> None:
        self.log.append("paused")
        self.paused.set()

    def on_resumed(self) -> None:
        self.log.append("resumed")
        self.resumed.set()


class ManualClock:
    """Stands in for the real clock of ``thread_control``; moves only when waited on.

    A status's ``wait_for_pause(timeout)`` on this clock returns at once, as if
    ``timeout`` seconds had passed without a pause, and advances the clock by that
    much; so does ``sleep``. A wait for threads that never pause then takes
    microseconds, and the clock says how long it would have taken.
    """

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, secs: float) -> None:
        self.now += secs

    def view(self, status: ThreadStatus) -> ReadOnlyThreadStatus:
        """A read-only view of ``status`` whose waits for a pause run on this clock."""

        def wait_for_pause(timeout: float) -> bool:
            self.now += timeout
            return status.is_pause()

        view = status.read_only
        view.wait_for_pause = wait_for_pause
        return view


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    manual = ManualClock()
    monkeypatch.setattr(thread_control, "time", manual)
    return manual


class TestThreadEventMixin:
    def test_hooks_do_nothing(self) -> None:
        mixin = ThreadEventMixin()
        mixin.on_paused()
        mixin.on_resumed()


class TestThreadController:
    def test_starts_resumed_and_active(self) -> None:
        controller = ThreadController()
        assert controller.is_resume()
        assert not controller.is_pause()
        assert controller.is_active()
        assert not controller.is_shutdown()

    def test_pause_and_resume(self) -> None:
        controller = ThreadController()
        controller.pause()
        assert controller.is_pause()
        controller.resume()
        assert controller.is_resume()

    def test_shutdown_releases_paused_threads(self) -> None:
        controller = ThreadController()
        controller.pause()
        controller.shutdown()
        assert controller.is_shutdown()
        assert controller.is_resume()  # so nobody stays blocked in a pause
        controller.shutdown()  # idempotent

    @pytest.mark.parametrize("command", ["pause", "resume"])
    def test_commands_after_shutdown_are_refused(self, command: str) -> None:
        controller = ThreadController()
        controller.shutdown()
        with pytest.raises(RuntimeError, match=rf"activated before {command}\(\)"):
            getattr(controller, command)()

    def test_activate_undoes_shutdown(self) -> None:
        controller = ThreadController()
        controller.shutdown()
        controller.activate()
        assert controller.is_active()
        controller.pause()

    def test_wait_for_resume(self) -> None:
        controller = ThreadController()
        assert controller.wait_for_resume(0.0)
        controller.pause()
        assert not controller.wait_for_resume(0.01)
        waiter = start(lambda: controller.wait_for_resume(10.0))
        controller.resume()
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive()

    def test_wait_for_command_wakes_on_pause_and_shutdown(self) -> None:
        controller = ThreadController()
        assert not controller.wait_for_command(0.01)
        controller.pause()
        assert controller.wait_for_command(0.0)
        controller.resume()
        assert not controller.wait_for_command(0.01)
        waiter = start(lambda: controller.wait_for_command(10.0))
        controller.shutdown()
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive()
        assert controller.wait_for_command(0.0)

    def test_read_only_view_exposes_the_query_methods(self) -> None:
        controller = ThreadController()
        view = controller.read_only
        assert isinstance(view, ReadOnlyController)
        assert view.is_resume == controller.is_resume
        assert view.is_pause == controller.is_pause
        assert view.is_shutdown == controller.is_shutdown
        assert view.is_active == controller.is_active
        assert view.wait_for_resume == controller.wait_for_resume
        assert view.wait_for_shutdown == controller.wait_for_shutdown
        assert view.wait_for_command == controller.wait_for_command
        assert not hasattr(view, "pause")


class TestControllerCommandHandler:
    def test_returns_at_once_when_running(self) -> None:
        controller = ThreadController()
        paused, resumed = mock.Mock(), mock.Mock()
        handler = ControllerCommandHandler(controller.read_only, paused, resumed)
        assert handler.manage_loop() is True
        paused.assert_not_called()
        resumed.assert_not_called()
        assert handler.on_paused is paused
        assert handler.on_resumed is resumed

    def test_blocks_while_paused_with_hooks_around_the_pause(self) -> None:
        controller = ThreadController()
        hooks = Hooks()
        handler = ControllerCommandHandler(
            controller.read_only, hooks.on_paused, hooks.on_resumed
        )
        controller.pause()
        returned = threading.Event()
        waiter = start(lambda: (handler.stop_if_pause(), returned.set()))
        assert hooks.paused.wait(WAIT), "the pause hook never ran"
        assert not returned.wait(0.05)  # blocked (without the block, it returns now)
        assert hooks.log == ["paused"]
        controller.resume()
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive()
        assert hooks.log == ["paused", "resumed"]

    def test_shutdown_while_paused_ends_the_loop_without_resume_hooks(self) -> None:
        controller = ThreadController()
        hooks = Hooks()
        handler = ControllerCommandHandler(
            controller.read_only, hooks.on_paused, hooks.on_resumed
        )
        controller.pause()
        result: list[bool] = []
        waiter = start(lambda: result.append(handler.manage_loop()))
        assert hooks.paused.wait(WAIT), "the pause hook never ran"
        controller.shutdown()
        waiter.join(timeout=WAIT)
        assert result == [False]
        assert hooks.log == ["paused"]

    def test_default_callbacks_do_nothing(self) -> None:
        controller = ThreadController()
        handler = ControllerCommandHandler(controller.read_only)
        controller.pause()
        waiter = start(handler.stop_if_pause)
        controller.resume()
        waiter.join(timeout=WAIT)
        assert not waiter.is_alive()


class TestThreadStatus:
    def test_reports_pause_and_resume(self) -> None:
        status = ThreadStatus()
        assert status.is_resume()
        assert not status.is_pause()
        status.pause()
        assert status.is_pause()
        assert status.wait_for_pause(0.0)
        status.resume()
        assert status.is_resume()
        assert not status.wait_for_pause(0.01)

    def test_exception_flag_is_never_cleared(self) -> None:
        status = ThreadStatus()
        assert not status.is_exception_raised()
        status.exception_raised()
        status.resume()
        assert status.is_exception_raised()

    def test_read_only_view(self) -> None:
        status = ThreadStatus()
        view = status.read_only
        assert isinstance(view, ReadOnlyThreadStatus)
        assert view.is_pause == status.is_pause
        assert view.is_resume == status.is_resume
        assert view.wait_for_pause == status.wait_for_pause
        assert view.is_exception_raised == status.is_exception_raised
        assert not hasattr(view, "pause")


def statuses() -> tuple[ThreadStatus, ThreadStatus, ThreadStatusesMonitor]:
    inference, training = ThreadStatus(), ThreadStatus()
    monitor = ThreadStatusesMonitor(
        {
            ThreadTypes.INFERENCE: inference.read_only,
            ThreadTypes.TRAINING: training.read_only,
        }
    )
    return inference, training, monitor


class TestThreadStatusesMonitor:
    def test_empty_monitor(self) -> None:
        monitor = ThreadStatusesMonitor({})
        assert monitor.wait_for_all_threads_pause(10.0)
        assert monitor.check_all_threads_paused()
        assert not monitor.check_any_threads_paused()
        assert not monitor.check_exception_raised()

    def test_all_and_any_paused(self) -> None:
        inference, training, monitor = statuses()
        inference.pause()
        assert monitor.check_any_threads_paused()
        assert not monitor.check_all_threads_paused()
        training.pause()
        assert monitor.check_all_threads_paused()

    def test_waits_for_threads_pausing_at_different_times(self) -> None:
        inference, training, monitor = statuses()
        waiting = threading.Event()
        seen_inference_paused = threading.Event()

        def between_waits() -> bool:
            if inference.is_pause():
                seen_inference_paused.set()
            waiting.set()
            return True

        def pause_one_then_the_other() -> None:
            waiting.wait(WAIT)
            inference.pause()
            # The monitor sees one thread paused and goes on waiting for the other.
            seen_inference_paused.wait(WAIT)
            training.pause()

        start(pause_one_then_the_other)
        assert monitor.wait_for_all_threads_pause(WAIT, between_waits=between_waits)
        assert seen_inference_paused.is_set()

    def test_the_timeout_is_shared_not_multiplied(
        self, clock: ManualClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        monitor = ThreadStatusesMonitor(
            {t: clock.view(ThreadStatus()) for t in ThreadTypes}
        )
        started = clock.now
        with caplog.at_level(logging.ERROR):
            assert not monitor.wait_for_all_threads_pause(0.3)
        # One shared timeout (0.3 s), not one per thread (0.9 s).
        assert clock.now - started == pytest.approx(0.3)
        for name in ("control", "inference", "training"):
            assert f"'{name}' thread to pause after 0.3 seconds" in caplog.text

    def test_reports_only_the_threads_that_did_not_pause(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        inference, _, monitor = statuses()
        inference.pause()
        with caplog.at_level(logging.ERROR):
            assert not monitor.wait_for_all_threads_pause(0.01)
        assert "'inference'" not in caplog.text
        assert "'training'" in caplog.text

    def test_gives_up_at_once_on_a_thread_that_died(
        self, clock: ManualClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        inference, training = ThreadStatus(), ThreadStatus()
        monitor = ThreadStatusesMonitor(
            {
                ThreadTypes.INFERENCE: clock.view(inference),
                ThreadTypes.TRAINING: clock.view(training),
            }
        )
        inference.pause()
        training.exception_raised()
        started = clock.now
        with caplog.at_level(logging.ERROR):
            assert not monitor.wait_for_all_threads_pause(60.0)
        assert clock.now == started  # not a moment of the 60 s was waited
        assert "'training' thread cannot pause: it died" in caplog.text

    def test_logs_each_failed_thread(self, caplog: pytest.LogCaptureFixture) -> None:
        _, training, monitor = statuses()
        training.exception_raised()
        with caplog.at_level(logging.ERROR):
            assert monitor.check_exception_raised()
        assert "An exception has occurred in the 'training' thread." in caplog.text
        assert "'inference'" not in caplog.text


class TestNumberedPauses:
    def test_each_pause_is_a_new_request(self) -> None:
        controller = ThreadController()
        assert controller.pause_request() == 0
        controller.pause()
        controller.resume()
        controller.pause()
        assert controller.pause_request() == 2
        assert controller.read_only.pause_request == controller.pause_request

    def test_a_status_acknowledges_the_request_it_saw(self) -> None:
        status = ThreadStatus()
        status.pause(3)
        assert status.is_paused_for(3)
        assert not status.is_paused_for(4)
        status.resume()
        assert not status.is_paused_for(3)
        assert status.read_only.is_paused_for == status.is_paused_for

    def test_a_stale_acknowledgement_does_not_pass_for_a_new_pause(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A thread still flagged paused from pause 1 has not acknowledged pause 2."""
        inference, training, monitor = statuses()
        inference.pause(1)
        training.pause(1)
        assert monitor.check_all_threads_paused(1)
        assert not monitor.check_all_threads_paused(2)
        with caplog.at_level(logging.ERROR):
            assert not monitor.wait_for_all_threads_pause(0.05, 2)

    def test_the_wait_ends_when_every_thread_acknowledged_this_request(self) -> None:
        inference, training, monitor = statuses()
        inference.pause(1)  # stale, from the previous pause
        training.pause(2)
        acknowledged = threading.Event()

        def wake_and_acknowledge() -> None:
            inference.resume()
            inference.pause(2)
            acknowledged.set()

        start(wake_and_acknowledge)
        assert monitor.wait_for_all_threads_pause(30.0, 2)
        assert acknowledged.is_set()

    def test_between_waits_can_cancel_the_wait(self) -> None:
        _, _, monitor = statuses()
        calls: list[int] = []

        def cancel_on_third_call() -> bool:
            calls.append(1)
            return len(calls) < 3

        assert not monitor.wait_for_all_threads_pause(
            30.0, 1, between_waits=cancel_on_third_call
        )
        assert len(calls) == 3
