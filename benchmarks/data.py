"""Data path benchmark: collect -> update -> buffer, and training-batch assembly.

Run from the repository root:

    .venv/bin/python benchmarks/data.py          # full run, for the numbers
    .venv/bin/python benchmarks/data.py --quick  # a few seconds, for CI

Every case is timed several times, the cases of one table taking turns, and the
fastest repeat of each is kept (the least disturbed by other load). Ratios compare cases measured in the same run. The script
never fails on a number; it only reports.
"""

import argparse
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from _machine import describe_machine
from pamiq_core.data import DataUser
from pamiq_core.data.impls import RingBuffer, SequentialBuffer


@dataclass
class Settings:
    repeats: int
    pipeline_items: int
    stored_items: int
    batches: int


FULL = Settings(repeats=20, pipeline_items=100_000, stored_items=10_000, batches=50)
QUICK = Settings(repeats=2, pipeline_items=10_000, stored_items=10_000, batches=10)

CHUNK = 100  # items collected between two updates
BATCH = 256
ITEM_FLOATS = 256  # float32 -> 1 KB per item
WINDOW = 16


def best_of(repeats: int, runs: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Fastest wall time of each run over ``repeats`` rounds, in seconds.

    The runs take turns within each round, so load from elsewhere on the machine
    hits all of them alike and the ratios stay meaningful.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def deque_floor(items: int) -> Callable[[], None]:
    """The floor: append to a deque and pop from its left, in chunks."""

    def run() -> None:
        queue: deque[int] = deque()
        sink: deque[int] = deque()
        for start in range(0, items, CHUNK):
            for i in range(start, start + CHUNK):
                queue.append(i)
            while queue:
                sink.append(queue.popleft())

    return run


def pipeline(items: int) -> Callable[[], None]:
    """collect() each item, update() after every chunk, into a SequentialBuffer."""

    def run() -> None:
        user = DataUser(SequentialBuffer[int](items))
        collect = user._collector.collect
        for start in range(0, items, CHUNK):
            for i in range(start, start + CHUNK):
                collect(i)
            user.update()
        assert len(user) == items

    return run


def stored_items(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.random(ITEM_FLOATS, dtype=np.float32) for _ in range(count)]


def ring_with(items: list[np.ndarray]) -> RingBuffer:
    ring = RingBuffer(len(items), (ITEM_FLOATS,), np.float32, seed=0)
    for item in items:
        ring.add(item)
    return ring


def sequential_with(items: list[np.ndarray]) -> SequentialBuffer[np.ndarray]:
    buffer = SequentialBuffer[np.ndarray](len(items))
    for item in items:
        buffer.add(item)
    return buffer


def fmt_time(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds * 1e6:8.2f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run for CI")
    settings = QUICK if parser.parse_args().quick else FULL

    print(f"data benchmark ({'quick' if settings is QUICK else 'full'})")
    print(f"machine: {describe_machine(f'numpy {np.__version__}')}")
    print()

    # 1. Throughput of the data path for small items.
    n = settings.pipeline_items
    times = best_of(settings.repeats, {"floor": deque_floor(n), "path": pipeline(n)})
    floor, through = times["floor"] / n, times["path"] / n
    print(f"Small items through the data path ({n} items, update every {CHUNK}):")
    print()
    print("| path | per item | items/s | vs deque floor |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| deque append + popleft (floor) | {fmt_time(floor)} | {1 / floor:,.0f} | 1.0x |"
    )
    print(
        f"| collect() -> update() -> SequentialBuffer | {fmt_time(through)} | "
        f"{1 / through:,.0f} | {through / floor:.1f}x slower |"
    )
    print()

    # 2. Training batch of 256 from 10,000 stored 1 KB items.
    items = stored_items(settings.stored_items)
    ring = ring_with(items)
    sequential = sequential_with(items)
    rng = np.random.default_rng(1)
    py_rng = random.Random(1)
    batches = settings.batches

    def ring_sample() -> None:
        for _ in range(batches):
            ring.sample(BATCH, rng=rng)

    def sequential_sample() -> None:
        for _ in range(batches):
            np.stack(py_rng.sample(sequential.get_data(), BATCH))

    stored = sequential.get_data()

    def stack_only() -> None:
        for _ in range(batches):
            np.stack(py_rng.sample(stored, BATCH))

    def ring_windows() -> None:
        for _ in range(batches):
            ring.sample_sequences(BATCH, WINDOW, rng=rng)

    def sequential_windows() -> None:
        for _ in range(batches):
            data = sequential.get_data()
            starts = [py_rng.randrange(len(data) - WINDOW + 1) for _ in range(BATCH)]
            np.stack([np.stack(data[s : s + WINDOW]) for s in starts])

    runs = {
        "ring": ring_sample,
        "sequential": sequential_sample,
        "stack": stack_only,
        "ring windows": ring_windows,
        "sequential windows": sequential_windows,
    }
    per_batch = {
        name: seconds / batches
        for name, seconds in best_of(settings.repeats, runs).items()
    }
    ring_time, sequential_time = per_batch["ring"], per_batch["sequential"]
    stack_time = per_batch["stack"]
    ring_window_time = per_batch["ring windows"]
    sequential_window_time = per_batch["sequential windows"]

    print(
        f"Training batch from {len(items):,} stored items of "
        f"{ITEM_FLOATS * 4} bytes (float32):"
    )
    print()
    print("| batch | ring buffer | SequentialBuffer + np.stack | ring speed-up |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| sample {BATCH} (get_data + random.sample + stack) | {fmt_time(ring_time)} | "
        f"{fmt_time(sequential_time)} | {sequential_time / ring_time:.1f}x |"
    )
    print(
        f"| sample {BATCH} (stack only, list already copied) | {fmt_time(ring_time)} | "
        f"{fmt_time(stack_time)} | {stack_time / ring_time:.1f}x |"
    )
    print(
        f"| {BATCH} windows of {WINDOW} | {fmt_time(ring_window_time)} | "
        f"{fmt_time(sequential_window_time)} | "
        f"{sequential_window_time / ring_window_time:.1f}x |"
    )
    print()
    print("Target: ring buffer at least 10x faster for a batch of 256 (first row).")


if __name__ == "__main__":
    sys.exit(main())
