import threading
from collections.abc import Iterator

import pytest
from typing_extensions import override

from eventually import Count
from pamiq_core import time
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import BackgroundThread, ControlThread


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


class Worker(BackgroundThread):
    """A background thread that ticks every millisecond and records its hooks."""

    THREAD_TYPE = ThreadTypes.INFERENCE

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.ticks = Count("ticks")
        self.in_pause_hook = threading.Event()
        self.release_pause_hook = threading.Event()
        self.release_pause_hook.set()
        self.fail_on_tick: BaseException | None = None

    @override
    def on_tick(self) -> None:
        self.ticks.add()
        if self.fail_on_tick is not None:
            raise self.fail_on_tick
        threading.Event().wait(0.001)  # a step's work; no test depends on its length

    @override
    def on_paused(self) -> None:
        self.log.append("paused")
        self.in_pause_hook.set()
        self.release_pause_hook.wait(60)  # (tests release it; never a fixed pause)
        super().on_paused()

    @override
    def on_resumed(self) -> None:
        self.log.append("resumed")
        super().on_resumed()

    @override
    def on_finally(self) -> None:
        self.log.append("finally")
        super().on_finally()


class Trainer(Worker):
    THREAD_TYPE = ThreadTypes.TRAINING


class System:
    """A control thread steering two real background threads."""

    def __init__(self, control: ControlThread) -> None:
        self.control = control
        self.inference, self.training = Worker(), Trainer()
        for thread in (self.inference, self.training):
            thread.attach_controller(control.controller)
        control.attach_thread_statuses(
            {
                ThreadTypes.INFERENCE: self.inference.thread_status,
                ThreadTypes.TRAINING: self.training.thread_status,
            }
        )
        self.runner = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.control.run()
        except BaseException as e:
            self.error = e

    def start(self, *, control_loop: bool = True) -> "System":
        """Start the background threads and, unless told not to, the control loop.

        Without the control loop, the test plays the control thread itself.
        """
        self.inference.start()
        self.training.start()
        if control_loop:
            self.runner.start()
        return self

    def wait_until_both_step(self) -> None:
        """Return once both background threads have stepped again (so run, not paused)."""
        for worker in (self.inference, self.training):
            worker.ticks.wait_for(worker.ticks.value + 1)

    def stop(self) -> None:
        self.control.shutdown()
        started = [self.inference, self.training]
        if self.runner.ident is not None:
            started.append(self.runner)
        for thread in started:
            thread.join(timeout=10)
