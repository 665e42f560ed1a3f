"""Hot loops: no forced sleeps, and neither background loop starves the other.

Whether the inference loop sleeps is checked exactly: every way a thread can sleep is
watched while it steps. Starvation is checked with rates compared with each other in
the same run, never with a fixed number of steps per second. The bound (a fiftieth of
the rate alone, the best of a few interleaved rounds) is loose on purpose: two
Python-bound loops share the GIL, so about a half each is fair, and a loaded machine
shifts the shares by several times; starvation costs orders of magnitude.
``benchmarks/loop.py`` measures the real shares and the cost of a sleep per step.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventually import eventually
from pamiq_core import Agent, Environment, Interaction, Trainer
from pamiq_core import time as pamiq_time
from pamiq_core.state_persistence import StateStore
from pamiq_core.thread import ThreadController, ThreadTypes
from pamiq_core.thread.threads import ControlThread, InferenceThread, TrainingThread
from pamiq_core.trainer import TrainersDict

ROUNDS = 3
WINDOW = 0.15
"""Real seconds over which one round measures a rate."""


class Still(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class Reflex(Agent[int, int]):
    def step(self, observation: int) -> int:
        return observation


class Busy(Trainer):
    """Each run spins in Python for about 0.2 ms, holding the GIL."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def train(self) -> None:
        end = time.perf_counter() + 0.0002
        while time.perf_counter() < end:
            pass
        self.runs += 1


class Running:
    def __init__(self, tmp: Path, *, inference: bool, trainer: Busy | None) -> None:
        self.control = ControlThread(StateStore(tmp), web_api_address=None)
        self.inference = InferenceThread(Interaction(Reflex(), Still()), 3600.0)
        trainers: dict[str, Trainer] = {} if trainer is None else {"busy": trainer}
        self.training = TrainingThread(TrainersDict(trainers))
        for thread in (self.inference, self.training):
            thread.attach_controller(self.control.controller)
        self.control.attach_thread_statuses(
            {
                ThreadTypes.INFERENCE: self.inference.thread_status,
                ThreadTypes.TRAINING: self.training.thread_status,
            }
        )
        self.started = [self.training] + ([self.inference] if inference else [])
        self.trainer = trainer

    def __enter__(self) -> "Running":
        for thread in self.started:
            thread.start()
        if self.inference in self.started:
            eventually(lambda: self.inference.step_periods.steps > 0, what="a step")
        if self.trainer is not None:
            trainer = self.trainer
            eventually(lambda: trainer.runs > 0, what="a training run")
        return self

    def __exit__(self, *exc: object) -> None:
        self.control.shutdown()
        for thread in self.started:
            thread.join(timeout=10)


def rates(*counts: Callable[[], int]) -> list[float]:
    """Counts per real second, all over the same window of :data:`WINDOW` seconds."""
    before, start = [count() for count in counts], time.perf_counter()
    time.sleep(WINDOW)  # the window measured, not a wait for anything
    elapsed = time.perf_counter() - start
    return [(count() - b) / elapsed for count, b in zip(counts, before, strict=True)]


def one_round(tmp: Path) -> tuple[float, float, float, float]:
    """Steps/s and runs/s of each loop alone, then of both together."""
    tmp.mkdir()
    with Running(tmp / "a", inference=True, trainer=None) as alone:
        [steps_alone] = rates(lambda: alone.inference.step_periods.steps)
    trainer = Busy()
    with Running(tmp / "b", inference=False, trainer=trainer):
        [runs_alone] = rates(lambda: trainer.runs)
    together = Busy()
    with Running(tmp / "c", inference=True, trainer=together) as both:
        steps, runs = rates(
            lambda: both.inference.step_periods.steps, lambda: together.runs
        )
    return steps_alone, runs_alone, steps, runs


def test_an_unpaced_agent_and_a_busy_trainer_both_make_progress(tmp_path: Path) -> None:
    # Rounds interleave the three, so that all see the same changes in load.
    measured = [one_round(tmp_path / str(n)) for n in range(ROUNDS)]
    steps_alone, runs_alone, steps, runs = (
        max(column) for column in zip(*measured, strict=True)
    )
    assert steps > steps_alone / 50, measured
    assert runs > runs_alone / 50, measured


@pytest.fixture
def sleeps_of_this_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every sleep or timed wait the calling thread starts from now on, by name."""
    this_thread = threading.get_ident()
    calls: list[str] = []
    sleepers: list[tuple[Any, str]] = [
        (time, "sleep"),
        (pamiq_time, "sleep"),
        (pamiq_time, "fixed_sleep"),
        (threading.Event, "wait"),
        (threading.Condition, "wait"),
    ]
    for owner, name in sleepers:
        original = getattr(owner, name)

        def watched(
            *args: Any, _original: Any = original, _name: str = name, **kwargs: Any
        ) -> Any:
            if threading.get_ident() == this_thread:
                calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)
    return calls


def run_1000_steps(*, sleep_after_each: bool) -> InferenceThread:
    """Run an inference thread's loop in this thread until its 1000th step."""
    controller = ThreadController()

    class StopsAfter1000(Reflex):
        steps = 0

        def step(self, observation: int) -> int:
            self.steps += 1
            if self.steps == 1000:
                controller.shutdown()
            if sleep_after_each:
                time.sleep(1e-6)  # what 0.6's loop did after each step
            return observation

    thread = InferenceThread(Interaction(StopsAfter1000(), Still()), 3600.0)
    thread.attach_controller(controller.read_only)
    thread.run()
    return thread


def test_the_inference_loop_does_not_sleep_between_steps(
    sleeps_of_this_thread: list[str],
) -> None:
    # A 1 us sleep per step caps a no-op loop near 17,000 steps/s, where it
    # otherwise runs at hundreds of thousands (benchmarks/loop.py measures both).
    thread = run_1000_steps(sleep_after_each=False)
    assert thread.step_periods.steps == 1000
    assert sleeps_of_this_thread == []


def test_a_loop_that_sleeps_would_be_seen(sleeps_of_this_thread: list[str]) -> None:
    run_1000_steps(sleep_after_each=True)
    assert sleeps_of_this_thread == ["sleep"] * 1000
