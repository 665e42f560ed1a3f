"""Hot loops: no forced sleeps, and neither background loop starves the other.

Rates are compared with each other in the same run, never with a fixed number of
steps per second. The bound (a sixth of the rate alone) is loose on purpose: two
Python-bound loops share the GIL, so about a half each is fair and
``benchmarks/loop.py`` reports the real shares; the test catches starvation and
fixed sleeps, which cost orders of magnitude.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eventually import eventually
from pamiq_core import Agent, Environment, Interaction, Trainer
from pamiq_core.state_persistence import StateStore
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import ControlThread, InferenceThread, TrainingThread
from pamiq_core.trainer import TrainersDict


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

    def __enter__(self) -> "Running":
        for thread in self.started:
            thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.control.shutdown()
        for thread in self.started:
            thread.join(timeout=10)


def rate(count: Callable[[], int], duration: float = 0.4) -> float:
    before, start = count(), time.perf_counter()
    time.sleep(duration)
    return (count() - before) / (time.perf_counter() - start)


def test_an_unpaced_agent_and_a_busy_trainer_both_make_progress(tmp_path: Path) -> None:
    tmp = tmp_path
    with Running(tmp / "a", inference=True, trainer=None) as alone:
        steps_alone = rate(lambda: alone.inference.step_periods.steps)
    trainer = Busy()
    with Running(tmp / "b", inference=False, trainer=trainer):
        runs_alone = rate(lambda: trainer.runs)
    trainer = Busy()
    with Running(tmp / "c", inference=True, trainer=trainer) as both:
        steps_together = rate(lambda: both.inference.step_periods.steps)
        runs_together = rate(lambda: trainer.runs)
    assert steps_together > steps_alone / 6
    assert runs_together > runs_alone / 6


def test_the_inference_loop_does_not_sleep_between_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.6 slept 1 us per step. Count every sleep or timed wait that the inference
    # thread makes while it steps; a rate comparison would depend on the machine
    # and on coverage tracing, a count does not.
    calls: list[str] = []
    real_sleep, real_wait = time.sleep, threading.Event.wait

    def sleep(seconds: float) -> None:
        if threading.current_thread().name == "pamiq-inference":
            calls.append(f"time.sleep({seconds})")
        real_sleep(seconds)

    def wait(event: threading.Event, timeout: float | None = None) -> bool:
        if threading.current_thread().name == "pamiq-inference":
            calls.append(f"Event.wait({timeout})")
        return real_wait(event, timeout)

    with Running(tmp_path, inference=True, trainer=None) as running:
        steps = running.inference.step_periods
        eventually(lambda: steps.steps > 0)
        monkeypatch.setattr(time, "sleep", sleep)
        monkeypatch.setattr(threading.Event, "wait", wait)
        start = steps.steps
        eventually(lambda: steps.steps > start + 2000)
        monkeypatch.undo()
    assert calls == []
