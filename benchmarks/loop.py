"""How much the running system costs per step, and how fast it pauses.

Measured in one run, on this machine:

1. Steps per second of a no-op agent and environment (a) called in a bare Python
   loop (the floor), (b) run by the inference thread, (c) run by a loop that sleeps
   1 us after each step as 0.6 does. The framework overhead per step is (b) - (a).
2. The same inference thread next to a training thread whose always-trainable
   trainer has an empty ``train()``: both rates, and each as a fraction of its rate
   when running alone (the GIL is shared, so about one half each is fair).
   Measured at Python's default switch interval (5 ms) and at launch's (0.5 ms).
3. Time from a pause request until both threads report paused, and to resume
   (at launch's switch interval).

Usage: python benchmarks/loop.py [--quick]
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _machine import describe_machine
from pamiq_core import Agent, Environment, Interaction, Trainer
from pamiq_core.realtime import DEFAULT_SWITCH_INTERVAL
from pamiq_core.state_persistence import StateStore
from pamiq_core.thread import ThreadTypes
from pamiq_core.thread.threads import ControlThread, InferenceThread, TrainingThread
from pamiq_core.trainer import TrainersDict


class NoOpEnv(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class NoOpAgent(Agent[int, int]):
    def step(self, observation: int) -> int:
        return observation


class EmptyTrainer(Trainer):
    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def train(self) -> None:
        self.runs += 1


def bare_rate(duration: float) -> float:
    interaction = Interaction(NoOpAgent(), NoOpEnv())
    step = interaction.step
    steps = 0
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        for _ in range(1000):
            step()
        steps += 1000
    return steps / duration


def sleepy_rate(duration: float) -> float:
    """0.6's loop: a 1 us ``time.sleep`` after every step."""
    interaction = Interaction(NoOpAgent(), NoOpEnv())
    step = interaction.step
    steps = 0
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        step()
        time.sleep(1e-6)
        steps += 1
    return steps / duration


class Threads:
    """An inference thread and a training thread driven by a control thread.

    The benchmark's own thread plays the control thread: it calls ``try_pause``
    and ``resume`` itself instead of running the control loop.
    """

    def __init__(self, trainers: dict[str, Trainer], tmp: Path) -> None:
        self.interaction = Interaction(NoOpAgent(), NoOpEnv())
        self.control = ControlThread(
            StateStore(tmp), web_api_address=None, timeout_for_all_threads_pause=10
        )
        self.inference = InferenceThread(self.interaction, 3600.0)
        self.training = TrainingThread(TrainersDict(trainers))
        for thread in (self.inference, self.training):
            thread.attach_controller(self.control.controller)
        self.control.attach_thread_statuses(
            {
                ThreadTypes.INFERENCE: self.inference.thread_status,
                ThreadTypes.TRAINING: self.training.thread_status,
            }
        )

    def __enter__(self) -> "Threads":
        self.inference.start()
        self.training.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.control.shutdown()
        self.inference.join()
        self.training.join()

    def steps(self) -> int:
        return self.inference.step_periods.steps


def measure(count: Callable[[], int], duration: float) -> float:
    start_count, start = count(), time.perf_counter()
    time.sleep(duration)
    return (count() - start_count) / (time.perf_counter() - start)


def run(quick: bool, tmp: Path) -> None:
    duration = 0.3 if quick else 3.0
    repeats = 1 if quick else 3
    print(
        "machine:",
        describe_machine(
            f"launch's switch interval {DEFAULT_SWITCH_INTERVAL * 1e3:g} ms"
        ),
    )
    print(f"each rate measured over {duration} s, best of {repeats}\n")

    bare = max(bare_rate(duration) for _ in range(repeats))
    sleepy = max(sleepy_rate(duration) for _ in range(repeats))
    with Threads({}, tmp / "a") as threads:
        time.sleep(0.1)
        alone = max(measure(threads.steps, duration) for _ in range(repeats))
    trainer_rate_alone = trainer_only_rate(duration, repeats, tmp / "c")
    together: dict[float, tuple[float, float]] = {}
    pauses: list[float] = []
    resumes: list[float] = []
    for interval in (0.005, DEFAULT_SWITCH_INTERVAL):
        sys.setswitchinterval(interval)
        trainer = EmptyTrainer()
        with Threads({"t": trainer}, tmp / f"d{interval}") as threads:
            time.sleep(0.1)
            together[interval] = (
                max(measure(threads.steps, duration) for _ in range(repeats)),
                max(measure(trainer_runs(trainer), duration) for _ in range(repeats)),
            )
            if interval == DEFAULT_SWITCH_INTERVAL:
                pauses, resumes = pause_latencies(threads, 20 if quick else 200)
    sys.setswitchinterval(0.005)

    overhead = 1e6 / alone - 1e6 / bare
    print("| loop | steps/s | us per step | vs bare loop |")
    print("|---|---:|---:|---:|")
    for name, rate in (
        ("bare Python loop (floor)", bare),
        ("inference thread (ours)", alone),
        ("loop sleeping 1 us per tick (0.6)", sleepy),
    ):
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.2f} | {bare / rate:.1f}x |")
    print(f"\nframework overhead per step: {overhead:.2f} us (target < 5 us)")
    print(
        "0.6's sleep per tick costs "
        f"{1e6 / sleepy - 1e6 / bare:.1f} us per step, "
        f"{(1e6 / sleepy - 1e6 / bare) / max(overhead, 1e-9):.0f}x our overhead\n"
    )

    print("| running together | switch interval | rate | alone | share of alone |")
    print("|---|---:|---:|---:|---:|")
    for interval, (inference_rate, training_rate) in together.items():
        label = f"{interval * 1e3:g} ms"
        print(
            f"| inference steps/s | {label} | {inference_rate:,.0f} | {alone:,.0f} | "
            f"{inference_rate / alone:.2f} |"
        )
        print(
            f"| training runs/s | {label} | {training_rate:,.0f} | "
            f"{trainer_rate_alone:,.0f} | {training_rate / trainer_rate_alone:.2f} |"
        )
    print("(target: neither below 0.33 of its rate alone)\n")

    print("| pause latency | p50 | p99 | max |")
    print("|---|---:|---:|---:|")
    for name, values in (("pause (ms)", pauses), ("resume (ms)", resumes)):
        ordered = sorted(v * 1e3 for v in values)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"| {name} | {statistics.median(ordered):.3f} | {p99:.3f} | "
            f"{ordered[-1]:.3f} |"
        )
    print("(target: pause under 10 ms with short trainers)")


def trainer_runs(trainer: EmptyTrainer) -> Callable[[], int]:
    return lambda: trainer.runs


def trainer_only_rate(duration: float, repeats: int, tmp: Path) -> float:
    trainer = EmptyTrainer()
    threads = Threads({"t": trainer}, tmp)
    # Only the training thread: the inference thread is never started.
    threads.training.start()
    try:
        time.sleep(0.1)
        return max(measure(trainer_runs(trainer), duration) for _ in range(repeats))
    finally:
        threads.control.shutdown()
        threads.training.join()


def pause_latencies(threads: Threads, count: int) -> tuple[list[float], list[float]]:
    pauses: list[float] = []
    resumes: list[float] = []
    for _ in range(count):
        start = time.perf_counter()
        assert threads.control.try_pause()
        pauses.append(time.perf_counter() - start)
        start = time.perf_counter()
        threads.control.resume()
        while threads.inference.thread_status.is_pause():
            time.sleep(20e-6)  # releases the GIL while polling
        resumes.append(time.perf_counter() - start)
        time.sleep(0.002)
    return pauses, resumes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for CI")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        run(args.quick, Path(tmp))


if __name__ == "__main__":
    main()
