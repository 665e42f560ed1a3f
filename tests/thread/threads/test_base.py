import logging
from unittest import mock

import pytest
from typing_extensions import override

from pamiq_core.thread import ThreadController, ThreadTypes
from pamiq_core.thread.threads import BackgroundThread, Thread

from .conftest import Worker


class Scripted(Thread):
    """A thread whose loop runs a given number of ticks and records its hooks."""

    THREAD_TYPE = ThreadTypes.CONTROL

    def __init__(self, ticks: int, fail_at: int | None = None) -> None:
        super().__init__()
        self.remaining = ticks
        self.fail_at = fail_at
        self.log: list[str] = []
        self.error: BaseException = ValueError("boom")

    @override
    def is_running(self) -> bool:
        return self.remaining > 0

    @override
    def on_start(self) -> None:
        self.log.append("start")

    @override
    def on_tick(self) -> None:
        self.log.append("tick")
        self.remaining -= 1
        if self.remaining == self.fail_at:
            raise self.error

    @override
    def on_end(self) -> None:
        self.log.append("end")

    @override
    def on_exception(self) -> None:
        self.log.append("exception")

    @override
    def on_finally(self) -> None:
        self.log.append("finally")


class TestThread:
    def test_requires_a_thread_type(self) -> None:
        class Untyped(Thread):
            pass

        with pytest.raises(
            AttributeError,
            match=r"Subclasses must define `THREAD_TYPE` attribute before instantiation\.",
        ):
            Untyped()

    def test_normal_lifecycle(self, caplog: pytest.LogCaptureFixture) -> None:
        thread = Scripted(ticks=3)
        with caplog.at_level(logging.INFO):
            thread.run()
        assert thread.log == ["start", "tick", "tick", "tick", "end", "finally"]
        assert "Start 'control' thread." in caplog.text
        assert "End 'control' thread." in caplog.text

    def test_an_exception_is_logged_reported_and_re_raised(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        thread = Scripted(ticks=3, fail_at=1)
        with pytest.raises(ValueError, match="boom"), caplog.at_level(logging.ERROR):
            thread.run()
        assert thread.log == ["start", "tick", "tick", "exception", "finally"]
        assert "An exception has occurred in 'control' thread." in caplog.text

    def test_keyboard_interrupt_skips_on_exception_but_runs_finally(self) -> None:
        thread = Scripted(ticks=3, fail_at=2)
        thread.error = KeyboardInterrupt()
        with pytest.raises(KeyboardInterrupt):
            thread.run()
        assert thread.log == ["start", "tick", "finally"]

    def test_does_not_sleep_between_ticks_by_default(self) -> None:
        assert Thread.LOOP_DELAY == 0.0
        with mock.patch("threading.Event.wait") as wait:
            Scripted(ticks=100).run()
        wait.assert_not_called()


class TestBackgroundThread:
    def test_cannot_be_the_control_thread(self) -> None:
        class Control(BackgroundThread):
            THREAD_TYPE = ThreadTypes.CONTROL

        with pytest.raises(ValueError, match="cannot be of type 'control'"):
            Control()

    def test_runs_until_shutdown(self) -> None:
        controller = ThreadController()
        worker = Worker()
        worker.attach_controller(controller.read_only)
        worker.start()
        worker.ticks.wait_for(3)
        assert worker.is_alive()
        controller.shutdown()
        worker.join(timeout=5)
        assert not worker.is_alive()
        assert worker.log == ["finally"]
        assert worker.exception is None

    def test_reports_paused_only_after_its_pause_hooks_returned(self) -> None:
        controller = ThreadController()
        worker = Worker()
        worker.release_pause_hook.clear()
        worker.attach_controller(controller.read_only)
        worker.start()
        controller.pause()
        assert worker.in_pause_hook.wait(5)
        assert not worker.thread_status.is_pause()  # hook still running
        worker.release_pause_hook.set()
        assert worker.thread_status.wait_for_pause(5)
        ticks = worker.ticks.value
        assert worker.ticks.stays_at(ticks, window=0.05)  # no stepping while paused
        controller.resume()
        worker.ticks.wait_for(ticks + 1)  # steps again, its resume hooks done
        controller.shutdown()
        worker.join(timeout=5)
        assert worker.log == ["paused", "resumed", "finally"]

    def test_shutdown_while_paused_skips_the_resume_hooks(self) -> None:
        controller = ThreadController()
        worker = Worker()
        worker.attach_controller(controller.read_only)
        worker.start()
        controller.pause()
        assert worker.thread_status.wait_for_pause(5)
        controller.shutdown()
        worker.join(timeout=5)
        assert worker.log == ["paused", "finally"]

    def test_keeps_its_exception_for_the_launcher(self) -> None:
        controller = ThreadController()
        worker = Worker()
        worker.fail_on_tick = RuntimeError("agent crashed")
        worker.attach_controller(controller.read_only)
        with mock.patch("threading.excepthook") as excepthook:
            worker.start()
            worker.join(timeout=5)
        excepthook.assert_not_called()
        assert isinstance(worker.exception, RuntimeError)
        assert worker.thread_status.is_exception_raised()
        assert worker.log == ["finally"]

    def test_even_a_base_exception_is_kept_and_reported(self) -> None:
        controller = ThreadController()
        worker = Worker()
        worker.fail_on_tick = SystemExit(3)
        worker.attach_controller(controller.read_only)
        worker.start()
        worker.join(timeout=5)
        assert isinstance(worker.exception, SystemExit)
        assert worker.thread_status.is_exception_raised()
