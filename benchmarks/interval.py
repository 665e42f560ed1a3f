"""Period error of FixedIntervalInteraction versus a plain sleep pacer.

Runs a no-op agent and environment under ``FixedIntervalInteraction.with_sleep_adjustor``
at 10, 100 and 1000 Hz and records the real (stdlib ``perf_counter``) time at the start
of every step. The error of a period is ``|actual period - target|``. The same loop is
paced by a plain pacer that calls the standard ``time.sleep(remaining)``, in the same
run, so the two see the same machine load.

The two pacers alternate in chunks of about a second, so both see the same changes
in machine load. Conditions: an idle process; a second thread running a Python busy loop (it competes
for the GIL) with the default GIL switch interval; the same with a 0.5 ms switch
interval.

    python benchmarks/interval.py           # numbers (about three minutes)
    python benchmarks/interval.py --quick   # a smoke run for CI (seconds)
    python benchmarks/interval.py --spin-margin 0.0003   # try another margin

The script never fails on a number.
"""

import argparse
import itertools
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from _machine import describe_machine
from pamiq_core import Agent, Environment, FixedIntervalInteraction
from pamiq_core.interaction import SleepIntervalAdjustor

RATES_HZ = (10, 100, 1000)
FULL_STEPS = {10: 60, 100: 2000, 1000: 4000}
QUICK_STEPS = {10: 3, 100: 30, 1000: 100}
SMALL_SWITCH_INTERVAL = 0.0005


class NoOpAgent(Agent[float, None]):
    def step(self, observation: float) -> None:
        return None


class StampingEnvironment(Environment[float, None]):
    """Records the real time at which each step starts."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def observe(self) -> float:
        now = time.perf_counter()
        self.stamps.append(now)
        return now

    def affect(self, action: None) -> None:
        pass


def run_fixed_interval(interval: float, steps: int) -> list[float]:
    env = StampingEnvironment()
    interaction = FixedIntervalInteraction.with_sleep_adjustor(
        NoOpAgent(), env, interval
    )
    interaction.setup()
    for _ in range(steps + 1):
        interaction.step()
    interaction.teardown()
    return env.stamps


def run_plain_sleep(interval: float, steps: int) -> list[float]:
    """The usual hand-written pacer: sleep whatever is left of the period."""
    env = StampingEnvironment()
    agent = NoOpAgent()
    last = time.perf_counter()
    for _ in range(steps + 1):
        env.affect(agent.step(env.observe()))
        remaining = last + interval - time.perf_counter()
        if remaining > 0:
            time.sleep(remaining)
        last = time.perf_counter()
    return env.stamps


@dataclass
class Result:
    p50: float
    p99: float
    max: float
    cpu: float  # CPU time of the pacing thread / wall time


@dataclass
class Samples:
    errors: list[float] = field(default_factory=list[float])
    cpu_time: float = 0.0
    wall_time: float = 0.0

    def result(self) -> Result:
        errors = sorted(self.errors)
        p99_index = min(len(errors) - 1, round(0.99 * (len(errors) - 1)))
        return Result(
            statistics.median(errors),
            errors[p99_index],
            errors[-1],
            self.cpu_time / self.wall_time,
        )


def measure_chunk(
    pacer: Callable[[float, int], list[float]], rate: int, steps: int, into: Samples
) -> None:
    interval = 1.0 / rate
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    stamps = pacer(interval, steps)
    into.cpu_time += time.thread_time() - cpu0
    into.wall_time += time.perf_counter() - wall0
    into.errors.extend(abs(b - a - interval) for a, b in itertools.pairwise(stamps))


def compare(
    pacers: dict[str, Callable[[float, int], list[float]]], rate: int, steps: int
) -> dict[str, Result]:
    """Run the pacers in alternating chunks of about a second each.

    Alternating spreads any change in machine load evenly over the pacers.
    """
    samples = {name: Samples() for name in pacers}
    chunk = max(1, min(steps, rate))
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        for name, pacer in pacers.items():
            measure_chunk(pacer, rate, n, samples[name])
        done += n
    return {name: s.result() for name, s in samples.items()}


@contextmanager
def busy_thread(switch_interval: float | None) -> Iterator[None]:
    if switch_interval is None:
        yield
        return
    previous = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--spin-margin",
        type=float,
        default=SleepIntervalAdjustor.spin_margin,
        help="SleepIntervalAdjustor.spin_margin in seconds (default: %(default)s)",
    )
    args = parser.parse_args()
    SleepIntervalAdjustor.spin_margin = args.spin_margin
    steps_by_rate = QUICK_STEPS if args.quick else FULL_STEPS

    default_switch = sys.getswitchinterval()
    conditions: list[tuple[str, float | None]] = [
        ("idle", None),
        (f"busy thread, switch {default_switch * 1e3:g} ms", default_switch),
        (
            f"busy thread, switch {SMALL_SWITCH_INTERVAL * 1e3:g} ms",
            SMALL_SWITCH_INTERVAL,
        ),
    ]
    pacers = {"fixed": run_fixed_interval, "plain": run_plain_sleep}

    print(f"machine: {describe_machine(platform.system())}")
    print(
        "period error |actual - target| in ms; fixed = FixedIntervalInteraction "
        f"(sleep, then spin the last {args.spin_margin * 1e3:g} ms); "
        "plain = time.sleep(remaining); cpu = CPU share of the pacing thread"
    )
    header = (
        f"{'condition':<27} {'rate':>6} {'steps':>6} {'pacer':<6}"
        f" {'p50':>8} {'p99':>8} {'max':>8} {'cpu':>5}"
    )
    print(header)
    print("-" * len(header))
    for name, switch in conditions:
        for rate in RATES_HZ:
            steps = steps_by_rate[rate]
            with busy_thread(switch):
                results = compare(pacers, rate, steps)
            for pacer, r in results.items():
                print(
                    f"{name:<27} {rate:>4}Hz {steps:>6} {pacer:<6}"
                    f" {r.p50 * 1e3:8.3f} {r.p99 * 1e3:8.3f} {r.max * 1e3:8.3f}"
                    f" {r.cpu:5.0%}"
                )
            fixed, plain = results["fixed"], results["plain"]
            print(
                f"{'':<27} {'':>6} {'':>6} {'ratio':<6}"
                f" {ratio(plain.p50, fixed.p50):>8} {ratio(plain.p99, fixed.p99):>8}"
                f" {ratio(plain.max, fixed.max):>8}   (plain / fixed)"
            )


def ratio(plain: float, fixed: float) -> str:
    if fixed <= 0:
        return "inf"
    return f"{plain / fixed:.1f}x"


if __name__ == "__main__":
    main()
