import threading
import time as std_time
from typing import Any

from pamiq_core.thread import ThreadController
from pamiq_core.thread.threads import TrainingThread
from pamiq_core.trainer import Trainer, TrainersDict


class Scripted(Trainer):
    def __init__(self, name: str, log: list[str], trainable: bool = True) -> None:
        super().__init__()
        self.name = name
        self.log = log
        self.trainable = trainable
        self.checks = 0

    def is_trainable(self) -> bool:
        self.checks += 1
        return self.trainable

    def train(self) -> None:
        self.log.append(self.name)
        threading.Event().wait(0.0005)

    def on_paused(self) -> None:
        self.log.append(f"{self.name} paused")

    def on_resumed(self) -> None:
        self.log.append(f"{self.name} resumed")


def start(trainers: dict[str, Trainer]) -> tuple[TrainingThread, ThreadController]:
    thread = TrainingThread(TrainersDict(trainers))
    controller = ThreadController()
    thread.attach_controller(controller.read_only)
    thread.start()
    return thread, controller


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = std_time.monotonic() + timeout
    while not condition():
        assert std_time.monotonic() < deadline, "timed out"
        std_time.sleep(0.001)


class TestTrainingThread:
    def test_runs_trainers_round_robin(self) -> None:
        log: list[str] = []
        thread, controller = start({"a": Scripted("a", log), "b": Scripted("b", log)})
        wait_for(lambda: len(log) >= 6)
        controller.shutdown()
        thread.join(timeout=10)
        trained = [entry for entry in log if entry in ("a", "b")]
        assert trained[:6] == ["a", "b", "a", "b", "a", "b"]
        assert thread.run_stats["a"].runs >= 3

    def test_rests_without_spinning_when_nothing_can_train(self) -> None:
        idle = Scripted("idle", [], trainable=False)
        thread, controller = start({"idle": idle})
        std_time.sleep(0.5)
        checks = idle.checks
        controller.shutdown()
        thread.join(timeout=10)
        # With backoff up to 10 ms, 0.5 s allows about 50 checks; a spinning
        # thread would check hundreds of thousands of times.
        assert 5 <= checks < 2_000

    def test_an_idle_thread_pauses_and_shuts_down_promptly(self) -> None:
        thread, controller = start({"idle": Scripted("idle", [], trainable=False)})
        std_time.sleep(0.1)
        controller.pause()
        assert thread.thread_status.wait_for_pause(5)
        controller.resume()
        controller.shutdown()
        thread.join(timeout=5)
        assert not thread.is_alive()

    def test_with_no_trainers_it_just_waits(self) -> None:
        thread, controller = start({})
        std_time.sleep(0.05)
        controller.shutdown()
        thread.join(timeout=5)
        assert not thread.is_alive()
        assert thread.exception is None

    def test_forwards_pause_and_resume_to_the_trainers(self) -> None:
        log: list[str] = []
        thread, controller = start({"a": Scripted("a", log)})
        controller.pause()
        assert thread.thread_status.wait_for_pause(5)
        assert log[-1] == "a paused"
        controller.resume()
        wait_for(lambda: "a resumed" in log)
        controller.shutdown()
        thread.join(timeout=5)

    def test_a_trainer_error_is_kept(self) -> None:
        class Broken(Scripted):
            def train(self) -> None:
                raise ValueError("loss is nan")

        thread, _ = start({"broken": Broken("broken", [])})
        thread.join(timeout=10)
        assert isinstance(thread.exception, ValueError)
        assert thread.thread_status.is_exception_raised()
