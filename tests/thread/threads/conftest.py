import threading
from collections.abc import Iterator

import pytest
from typing_extensions import override

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
        self.ticks = 0
        self.in_pause_hook = threading.Event()
        self.release_pause_hook = threading.Event()
        self.release_pause_hook.set()
        self.fail_on_tick: BaseException | None = None

    @override
    def on_tick(self) -> None:
        self.ticks += 1
        if self.fail_on_tick is not None:
            raise self.fail_on_tick
        threading.Event().wait(0.001)

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

    def start(self) -> "System":
        self.inference.start()
        self.training.start()
        self.runner.start()
        return self

    def stop(self) -> None:
        self.control.shutdown()
        for thread in (self.runner, self.inference, self.training):
            thread.join(timeout=10)
