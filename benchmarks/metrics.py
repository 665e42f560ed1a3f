"""What recording a metric costs the hot loops, and what serving a snapshot costs.

Measured in one run, on this machine:

1. Per step, each recording call next to a bare loop that reads the clock the same
   way the thread does, so the difference is the cost of the recording alone:
   ``StepPeriods.tick`` (inference thread, every step), ``RunStats.record`` (training
   thread, every training run), ``SyncStats.record_sync`` (every sync) and
   ``TrainingModel.mark_trained`` (every run, per model). The two loops of a pair
   take turns, in a new random order every round; each keeps its fastest round.
2. One ``Metrics.snapshot()`` of a system with full windows (1000 step periods),
   3 trainers, 3 models and 3 buffers, and one ``GET /api/metrics`` over HTTP
   (keep-alive, loopback) next to ``GET /api/status`` on the same server, the two
   taking turns; medians over the rounds.
3. Logged scalars (``pamiq_core.tracking``): what one ``log_scalar`` costs the
   calling thread, next to a no-op method or function of the same signature, loops
   taking turns as in 1, with a started tracker whose writer drains between rounds
   (so the call is measured, not the writer competing for the interpreter); then the
   writer's throughput into each logger: a queue filled while the writer waits,
   then the time of one ``flush()``, best and worst of the rounds.

What logging costs a real-time agent as a whole (a 100 Hz agent logging 1,000
scalars a second, a trainer logging after every run, against the same system
without logging) is measured by ``benchmarks/tracking_realtime.py``.

Usage: python benchmarks/metrics.py [--quick]
"""

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pamiq_core import InferenceModel, TrainingModel
from pamiq_core.console import SystemStatus, SystemStatusProvider, WebApiServer
from pamiq_core.interaction import Agent
from pamiq_core.metrics import Metrics, RunStats, StepPeriods, SyncStats, SystemStats
from pamiq_core.thread import ThreadController, ThreadStatus, ThreadStatusesMonitor
from pamiq_core.thread.thread_types import ThreadTypes
from pamiq_core.tracking import (
    CSVLogger,
    MLflowLogger,
    SystemTracking,
    TensorBoardLogger,
    Tracker,
    TrackingLogger,
    log_scalar,
)

Loop = Callable[[int], float]
"""Runs ``n`` iterations and returns the seconds they took."""


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


class Identity(InferenceModel):
    def infer(self, x: Any) -> Any:
        return x


class Model(TrainingModel[Identity]):
    def _create_inference_model(self) -> Identity:
        return Identity()

    def forward(self, x: Any) -> Any:
        return x

    def sync_impl(self, inference_model: Identity) -> None:
        pass


# Each pair: the bare loop and the loop with the recording call, otherwise equal.
# The clock is time.perf_counter, which is what pamiq_core.time.fixed_perf_counter is.


def tick_bare(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        now = clock()  # noqa: F841 (the inference thread reads the clock once a step)
    return clock() - start


def tick_recorded(n: int) -> float:
    clock = time.perf_counter
    tick = StepPeriods().tick
    start = clock()
    for _ in range(n):
        now = clock()
        tick(now)
    return clock() - start


def run_bare(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        begin = clock()
        end = clock()
        duration = end - begin  # noqa: F841
    return clock() - start


def run_recorded(n: int) -> float:
    clock = time.perf_counter
    record = RunStats().record
    start = clock()
    for _ in range(n):
        begin = clock()
        end = clock()
        record(end - begin, end)
    return clock() - start


def sync_bare(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        begin = clock()
        duration = clock() - begin  # noqa: F841
    return clock() - start


def sync_recorded(n: int) -> float:
    clock = time.perf_counter
    record_sync = SyncStats().record_sync
    start = clock()
    for _ in range(n):
        begin = clock()
        record_sync(clock() - begin)
    return clock() - start


def mark_bare(n: int) -> float:
    clock = time.perf_counter
    start = clock()
    for _ in range(n):
        pass
    return clock() - start


def mark_recorded(n: int) -> float:
    clock = time.perf_counter
    mark_trained = Model().mark_trained
    start = clock()
    for _ in range(n):
        mark_trained()
    return clock() - start


CASES: list[tuple[str, str, Loop, Loop]] = [
    ("StepPeriods.tick", "inference step", tick_bare, tick_recorded),
    ("RunStats.record", "training run", run_bare, run_recorded),
    ("SyncStats.record_sync", "sync", sync_bare, sync_recorded),
    ("TrainingModel.mark_trained", "training run", mark_bare, mark_recorded),
]


def fastest_per_iteration(
    pairs: list[tuple[Loop, Loop]], n: int, rounds: int
) -> list[tuple[float, float]]:
    """Per-iteration seconds of each loop, fastest round, loops taking turns."""
    best = [[float("inf"), float("inf")] for _ in pairs]
    jobs = [(i, j) for i in range(len(pairs)) for j in range(2)]
    for _ in range(rounds):
        random.shuffle(jobs)
        for i, j in jobs:
            best[i][j] = min(best[i][j], pairs[i][j](n) / n)
    return [(bare, recorded) for bare, recorded in best]


def sample_metrics() -> Metrics:
    steps = StepPeriods()
    clock = 0.0
    for _ in range(1001):
        clock += random.uniform(0.009, 0.011)
        steps.tick(clock)
    trainers: dict[str, RunStats] = {}
    models: dict[str, SyncStats] = {}
    for i in range(3):
        runs = RunStats()
        runs.record(0.05, time.perf_counter())
        sync = SyncStats()
        sync.training_version = 10
        sync.record_sync(0.0001)
        trainers[f"trainer{i}"] = runs
        models[f"model{i}"] = sync
    system = SystemStats()
    system.start()
    system.record_save("/states/example.state")
    return Metrics(
        inference_steps=steps,
        trainers=trainers,
        models=models,
        buffers={f"buffer{i}": list(range(100)) for i in range(3)},
        system=system,
        status=lambda: SystemStatus.ACTIVE,
    )


def time_calls(calls: list[Callable[[], object]], n: int, rounds: int) -> list[float]:
    """Per call, the median over rounds of the mean seconds per call.

    The calls take turns, in a new random order every round, so that they all see
    the same machine load.
    """
    results: list[list[float]] = [[] for _ in calls]
    order = list(range(len(calls)))
    for _ in range(rounds):
        random.shuffle(order)
        for i in order:
            call = calls[i]
            start = time.perf_counter()
            for _ in range(n):
                call()
            results[i].append((time.perf_counter() - start) / n)
    return [statistics.median(r) for r in results]


def serving(quick: bool) -> None:
    metrics = sample_metrics()
    n, rounds = (50, 3) if quick else (200, 15)
    (snapshot,) = time_calls([metrics.snapshot], n, rounds)

    inference, training = ThreadStatus(), ThreadStatus()
    monitor = ThreadStatusesMonitor(
        {
            ThreadTypes.INFERENCE: inference.read_only,
            ThreadTypes.TRAINING: training.read_only,
        }
    )
    provider = SystemStatusProvider(ThreadController().read_only, monitor)
    server = WebApiServer(provider, port=0, metrics=metrics.snapshot)
    server.run_in_background()
    assert server.wait_for_startup(10)
    assert server.address is not None
    try:
        with httpx.Client(base_url=f"http://localhost:{server.address[1]}") as client:
            assert client.get("/api/metrics").status_code == 200
            size = len(client.get("/api/metrics").content)
            http_metrics, http_status = time_calls(
                [lambda: client.get("/api/metrics"), lambda: client.get("/api/status")],
                n,
                rounds,
            )
    finally:
        server.stop()

    print("\n| serving | per call |")
    print("| --- | ---: |")
    print(f"| Metrics.snapshot() (in process) | {snapshot * 1e6:.1f} us |")
    print(f"| GET /api/metrics ({size:,} bytes) | {http_metrics * 1e6:.0f} us |")
    print(f"| GET /api/status | {http_status * 1e6:.0f} us |")
    print(
        f"\nGET /api/metrics costs {(http_metrics - http_status) * 1e6:.0f} us more "
        "than GET /api/status; the dashboard asks for both every 500 ms."
    )


def recording(quick: bool) -> None:
    n, rounds = (20_000, 3) if quick else (1_000_000, 9)
    results = fastest_per_iteration([(b, r) for _, _, b, r in CASES], n, rounds)
    print(f"{n:,} iterations per loop, fastest of {rounds} rounds\n")
    print("| recording | once per | bare loop | with it | difference | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (name, per, _, _), (bare, recorded) in zip(CASES, results, strict=True):
        print(
            f"| {name} | {per} | {bare * 1e9:.0f} ns | {recorded * 1e9:.0f} ns "
            f"| {(recorded - bare) * 1e9:+.0f} ns | {recorded / bare:.2f}x |"
        )


class LoggingAgent(Agent[float, float]):
    """An agent of a system: logs under ``agent/`` at the inference step count."""

    def step(self, observation: float) -> float:
        return observation

    def no_op(self, name: str, value: float, step: int | None = None) -> None:
        """Same signature as log_scalar, does nothing: the call's own overhead."""


def no_op(name: str, value: float, step: int | None = None) -> None:
    pass


def log_loops(agent: LoggingAgent, tracker: Tracker) -> list[tuple[str, Loop, Loop]]:
    """(what, bare, logging) loops; each logging loop then lets the writer drain."""

    def drained(loop: Loop) -> Loop:
        def run(n: int) -> float:
            seconds = loop(n)
            tracker.flush(timeout=None)  # outside the timed part
            return seconds

        return run

    def component_bare(n: int) -> float:
        call = agent.no_op
        start = time.perf_counter()
        for _ in range(n):
            call("reward", 1.0)
        return time.perf_counter() - start

    def component_logged(n: int) -> float:
        call = agent.log_scalar
        start = time.perf_counter()
        for _ in range(n):
            call("reward", 1.0)
        return time.perf_counter() - start

    def module_bare(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            no_op("world/temperature", 1.0, i)
        return time.perf_counter() - start

    def module_logged(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            log_scalar("world/temperature", 1.0, i)
        return time.perf_counter() - start

    return [
        ("agent.log_scalar(name, x)", component_bare, drained(component_logged)),
        ("log_scalar(name, x, step)", module_bare, drained(module_logged)),
    ]


def call_cost(quick: bool) -> None:
    n, rounds = (20_000, 3) if quick else (200_000, 9)
    agent = LoggingAgent()
    system = SystemTracking(
        agent=agent, inference_steps=lambda: 0, queue_size=n + 1
    )  # the writer feeds only the in-memory history here
    system.start()
    try:
        loops = log_loops(agent, system.tracker)
        results = fastest_per_iteration([(b, r) for _, b, r in loops], n, rounds)
        dropped = system.tracker.stats()["dropped"]
    finally:
        system.stop()
    assert dropped == 0, f"{dropped} records dropped: the queue was too small"
    print(f"\n{n:,} calls per loop, fastest of {rounds} rounds, calling thread only\n")
    print("| logging call | no-op call | with it | difference | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (what, _, _), (bare, logged) in zip(loops, results, strict=True):
        print(
            f"| {what} | {bare * 1e9:.0f} ns | {logged * 1e9:.0f} ns "
            f"| {(logged - bare) * 1e9:+.0f} ns | {logged / bare:.2f}x |"
        )


def writer_rate(
    make: Callable[[Path], list[TrackingLogger]], n: int, rounds: int
) -> list[float]:
    """Records per second from a filled queue into ``make(folder)``'s loggers."""
    rates: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(rounds):
            tracker = Tracker(
                make(Path(folder) / str(round_)), queue_size=n, interval=3600
            )
            with tracker:
                for i in range(n):  # ten series, as an agent logging ten things
                    log_scalar(f"agent/series{i % 10}", random.random(), i // 10)
                start = time.perf_counter()
                tracker.flush(timeout=None)
                rates.append(n / (time.perf_counter() - start))
            assert tracker.stats()["logger_failures"] == {
                key: 0 for key in tracker.stats()["logger_failures"]
            }, tracker.stats()
    return rates


def throughput(quick: bool) -> None:
    scale, rounds = (0.05, 2) if quick else (1.0, 3)
    sinks: list[tuple[str, Callable[[Path], list[TrackingLogger]], int]] = [
        ("history only (no logger)", lambda _: [], 200_000),
        ("CSVLogger", lambda d: [CSVLogger(d / "s.csv")], 100_000),
        ("TensorBoardLogger", lambda d: [TensorBoardLogger(d)], 50_000),
        ("MLflowLogger (file store)", lambda d: [MLflowLogger(d)], 10_000),
    ]
    print("\n| writer into | records | records/s best | records/s worst |")
    print("| --- | ---: | ---: | ---: |")
    for name, make, full_n in sinks:
        n = max(1_000, int(full_n * scale))
        rates = writer_rate(make, n, rounds)
        print(f"| {name} | {n:,} | {max(rates):,.0f} | {min(rates):,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds only")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    recording(args.quick)
    serving(args.quick)
    call_cost(args.quick)
    throughput(args.quick)


if __name__ == "__main__":
    main()
