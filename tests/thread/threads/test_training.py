import threading

import pytest

from eventually import Count
from pamiq_core.thread import ReadOnlyController, ThreadController
from pamiq_core.thread.threads import TrainingThread
from pamiq_core.trainer import Trainer, TrainersDict

WAIT = 20.0
"""Real seconds a test waits for the training thread before failing."""


class Scripted(Trainer):
    def __init__(self, name: str, log: list[str], trainable: bool = True) -> None:
        super().__init__()
        self.name = name
        self.log = log
        self.trainable = trainable
        self.checks = 0
        self.runs = Count(f"runs of {name}")

    def is_trainable(self) -> bool:
        self.checks += 1
        return self.trainable

    def train(self) -> None:
        self.log.append(self.name)
        threading.Event().wait(0.0005)  # a run's work; no test depends on its length
        self.runs.add()

    def on_paused(self) -> None:
        self.log.append(f"{self.name} paused")

    def on_resumed(self) -> None:
        self.log.append(f"{self.name} resumed")


class Watched:
    """A controller whose view tells the test each time the thread rests on it."""

    def __init__(self) -> None:
        self.controller = ThreadController()
        self.view: ReadOnlyController = self.controller.read_only
        self.rests = Count("rests")

        def rest(timeout: float) -> bool:
            self.rests.add()
            return self.controller.wait_for_command(timeout)

        self.view.wait_for_command = rest


def start(
    trainers: dict[str, Trainer],
) -> tuple[TrainingThread, ThreadController, Watched]:
    thread = TrainingThread(TrainersDict(trainers))
    watched = Watched()
    thread.attach_controller(watched.view)
    thread.start()
    return thread, watched.controller, watched


class TestTrainingThread:
    def test_runs_trainers_round_robin(self) -> None:
        log: list[str] = []
        a, b = Scripted("a", log), Scripted("b", log)
        thread, controller, _ = start({"a": a, "b": b})
        a.runs.wait_for(3)
        b.runs.wait_for(3)
        controller.shutdown()
        thread.join(timeout=WAIT)
        trained = [entry for entry in log if entry in ("a", "b")]
        assert trained[:6] == ["a", "b", "a", "b", "a", "b"]
        assert thread.run_stats["a"].runs >= 3

    def test_rests_without_spinning_when_nothing_can_train(self) -> None:
        idle = Scripted("idle", [], trainable=False)
        thread = TrainingThread(TrainersDict({"idle": idle}))
        controller = ThreadController()
        view = controller.read_only
        rests: list[float] = []

        def rest(timeout: float) -> bool:
            rests.append(timeout)
            if len(rests) == 10:
                controller.shutdown()
            return controller.is_shutdown()  # as if it waited the whole timeout

        view.wait_for_command = rest
        thread.attach_controller(view)
        thread.run()  # in this thread, until the tenth rest shuts it down
        # One check per rest, each rest twice the last up to the cap: no spinning.
        assert idle.checks == 10
        smallest, largest = TrainingThread.IDLE_WAIT_MIN, TrainingThread.IDLE_WAIT_MAX
        expected = [min(smallest * 2**n, largest) for n in range(10)]
        assert rests == pytest.approx(expected)
        assert rests[-1] == largest

    def test_an_idle_thread_pauses_and_shuts_down_promptly(self) -> None:
        thread, controller, watched = start(
            {"idle": Scripted("idle", [], trainable=False)}
        )
        watched.rests.wait_for(1)
        controller.pause()
        assert thread.thread_status.wait_for_pause(5)
        controller.resume()
        controller.shutdown()
        thread.join(timeout=5)
        assert not thread.is_alive()

    def test_with_no_trainers_it_just_waits(self) -> None:
        thread, controller, watched = start({})
        watched.rests.wait_for(1)
        controller.shutdown()
        thread.join(timeout=5)
        assert not thread.is_alive()
        assert thread.exception is None

    def test_forwards_pause_and_resume_to_the_trainers(self) -> None:
        log: list[str] = []
        a = Scripted("a", log)
        thread, controller, _ = start({"a": a})
        controller.pause()
        assert thread.thread_status.wait_for_pause(5)
        assert log[-1] == "a paused"
        runs = a.runs.value
        controller.resume()
        a.runs.wait_for(runs + 1)
        assert "a resumed" in log
        controller.shutdown()
        thread.join(timeout=WAIT)

    def test_a_trainer_error_is_kept(self) -> None:
        class Broken(Scripted):
            def train(self) -> None:
                raise ValueError("loss is nan")

        thread, _, _ = start({"broken": Broken("broken", [])})
        thread.join(timeout=WAIT)
        assert isinstance(thread.exception, ValueError)
        assert thread.thread_status.is_exception_raised()
