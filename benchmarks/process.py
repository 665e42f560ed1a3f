"""What training in processes costs and gives, against thread mode in the same run.

1. Sync cost: one sync of a torch model into the shared-memory copies of process mode
   against a bare fused copy of the same tensors (``torch._foreach_copy_``), at 10k,
   10M and 100M parameters (in one process: the copy is what the training process
   pays per sync).
2. Sync latency: from the end of a sync in the training process until the agent's
   next ``infer`` uses it (p50 / p99), for an agent acting at 1 kHz, in each mode.
3. Data throughput: small items (a dict of a few numbers, items/s) and 1 MB numpy
   arrays (MB/s) that reach the buffers, the agent collecting as fast as it can.
4. Launch to first step: from calling ``launch`` until the agent's first step.
5. Parallel groups: two Python-heavy trainers in two process groups against the
   same two in one training thread (training runs per second).

The real-time case (a 100 Hz agent's lateness) is in ``benchmarks/realtime.py``.

Usage: python benchmarks/process.py [--quick]
"""

import argparse
import copy
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from _machine import describe_machine
from pamiq_core import (
    Agent,
    Environment,
    Interaction,
    LaunchConfig,
    Trainer,
    launch,
)
from pamiq_core.data import DataBuffer, DataCollector
from pamiq_core.state_persistence import find_latest_state, load_pickle, save_pickle
from pamiq_core.torch import TorchInferenceModel, TorchTrainingModel

MODES = ("thread", "process")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---- 1. sync cost -------------------------------------------------------------


def mlp(parameters: int) -> nn.Module:
    """A stack of square linear layers with about ``parameters`` parameters."""
    width = 1024 if parameters >= 1_000_000 else 64
    layers = max(1, round(parameters / (width * width + width)))
    return nn.Sequential(*(nn.Linear(width, width) for _ in range(layers)))


def sync_cost(parameters: int, repeats: int) -> tuple[float, float]:
    """Seconds per process-mode sync and per bare fused copy (best of ``repeats``)."""
    agent_side = TorchTrainingModel(mlp(parameters))
    slots = agent_side._share_with_process(multiprocessing.get_context("spawn").Lock())  # pyright: ignore[reportPrivateUsage]
    training_side = copy.deepcopy(agent_side)  # as the training process holds it
    training_side._publish_through(slots)  # pyright: ignore[reportPrivateUsage]
    sources = [*training_side.model.parameters(), *training_side.model.buffers()]
    targets = [*slots.modules[1].parameters(), *slots.modules[1].buffers()]
    syncs: list[float] = []
    copies: list[float] = []
    with torch.no_grad():
        for _ in range(repeats):  # interleaved, so both see the same machine
            started = time.perf_counter()
            training_side.sync()
            syncs.append(time.perf_counter() - started)
            with agent_side.inference_model.unwrap():
                pass  # the agent takes the sync up, freeing the other copy
            started = time.perf_counter()
            torch._foreach_copy_(targets, sources)  # pyright: ignore[reportPrivateImportUsage]
            copies.append(time.perf_counter() - started)
    return min(syncs), min(copies)


# ---- systems for 2-5 ----------------------------------------------------------


class Ticker(Environment[int, int]):
    def __init__(self) -> None:
        self.count = 0

    def observe(self) -> int:
        self.count += 1
        return self.count

    def affect(self, action: int) -> None:
        pass


class Quiet(Agent[int, int]):
    def step(self, observation: int) -> int:
        return observation


class LatencyAgent(Agent[int, int]):
    """Acts at about 1 kHz; notes when each new sync is first used."""

    def __init__(self) -> None:
        super().__init__()
        self.first_use: dict[int, float] = {}
        self.first_step_at: float | None = None

    def on_inference_models_attached(self) -> None:
        self.model: TorchInferenceModel[nn.Module] = self.get_inference_model("net")  # type: ignore[assignment]

    def on_data_collectors_attached(self) -> None:
        self.ticks: DataCollector[int] = self.get_data_collector("ticks")

    def step(self, observation: int) -> int:
        if self.first_step_at is None:
            self.first_step_at = time.perf_counter()
        self.model.infer(torch.zeros(8))
        version = self.model.sync_version
        if version not in self.first_use:
            self.first_use[version] = time.perf_counter()
        self.ticks.collect(observation)
        threading.Event().wait(0.001)
        return observation


class SyncingTrainer(Trainer):
    """Syncs a small model after every run and notes when each sync ended."""

    def __init__(self) -> None:
        super().__init__("ticks", min_buffer_size=1, min_new_data_count=1)
        self.synced_at: dict[int, float] = {}

    def on_training_models_attached(self) -> None:
        self.net: TorchTrainingModel[nn.Module] = self.get_training_model("net")  # type: ignore[assignment]

    def on_data_users_attached(self) -> None:
        self.ticks = self.get_data_user("ticks")

    def train(self) -> None:
        self.ticks.update()
        threading.Event().wait(0.003)  # a run of a few milliseconds

    def teardown(self) -> None:
        self.synced_at[self.net.sync_version] = time.perf_counter()

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle(self.synced_at, path / "synced_at.pkl")


class Counting(DataBuffer[Any, int]):
    """Keeps nothing; counts what arrives (and its bytes)."""

    def __init__(self) -> None:
        super().__init__(max_queue_size=100_000)
        self.count = 0
        self.bytes = 0
        self.first = self.last = 0.0

    def add(self, data: Any) -> None:
        self.last = time.perf_counter()
        if not self.count:
            self.first = self.last
        self.count += 1
        if isinstance(data, np.ndarray):
            self.bytes += data.nbytes

    def get_data(self) -> int:
        return self.count

    def __len__(self) -> int:
        return self.count

    def save_state(self, path: Path) -> None:
        save_pickle(
            (self.count, self.bytes, self.last - self.first), path.with_suffix(".pkl")
        )


class Flooding(Agent[int, int]):
    """Collects ``item`` as fast as it can."""

    def __init__(self, item: Any) -> None:
        super().__init__()
        self.item = item
        self.collected = 0

    def on_data_collectors_attached(self) -> None:
        self.sink: DataCollector[Any] = self.get_data_collector("sink")

    def step(self, observation: int) -> int:
        item = self.item
        # A new array each step, as a sensor gives: the same object collected again
        # and again would cross to a training process once per batch (pickle's memo).
        self.sink.collect(item.copy() if isinstance(item, np.ndarray) else item)
        self.collected += 1
        if self.collected % 64 == 0:
            threading.Event().wait(
                0.0001
            )  # let the sending side run, as a real agent would
        return observation


class Draining(Trainer):
    def __init__(self, buffer: str) -> None:
        super().__init__()
        self.buffer = buffer

    def on_data_users_attached(self) -> None:
        self.user = self.get_data_user(self.buffer)

    def train(self) -> None:
        self.user.update()
        threading.Event().wait(0.001)


class PythonHeavy(Trainer):
    """Builds a few thousand small dicts and lists per run, as real trainers do."""

    def __init__(self) -> None:
        super().__init__()
        self.first = self.last = 0.0

    def train(self) -> None:
        rows = [{"i": i, "x": [i, i + 1, i + 2]} for i in range(3000)]
        sum(len(r["x"]) for r in rows)
        self.last = time.perf_counter()
        if not self.first:
            self.first = self.last

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle(self.last - self.first, path / "span.pkl")


def _config(mode: str, states: str, **extra: Any) -> LaunchConfig:
    return LaunchConfig(training=mode, states_dir=states, web_api_address=None, **extra)  # type: ignore[arg-type]


def sync_latency(mode: str, seconds: float) -> tuple[float, float, int, float]:
    """p50 and p99 sync-to-use latency (s), syncs used, launch-to-first-step (s)."""
    agent, trainer = LatencyAgent(), SyncingTrainer()
    net = TorchTrainingModel(nn.Linear(8, 8))
    with tempfile.TemporaryDirectory() as states:
        started = time.perf_counter()
        launch(
            Interaction(agent, Ticker()),
            {"net": net},
            {"ticks": Counting()},
            {"syncing": trainer},
            _config(mode, states, max_uptime=seconds),
        )
        final = find_latest_state(states)
        assert final is not None
        synced_at: dict[int, float] = load_pickle(
            final / "trainers" / "syncing" / "synced_at.pkl"
        )
    latencies = [
        agent.first_use[v] - t for v, t in synced_at.items() if v in agent.first_use
    ]
    first_step = (agent.first_step_at or started) - started
    if not latencies:
        return float("nan"), float("nan"), 0, first_step
    return (
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        len(latencies),
        first_step,
    )


def throughput(mode: str, item: Any, seconds: float) -> tuple[float, float]:
    """Items per second and bytes per second that reached the buffer.

    Counted from the first item to reach the buffer to the last, so that a
    training process's start-up does not count.
    """
    agent = Flooding(item)
    with tempfile.TemporaryDirectory() as states:
        launch(
            Interaction(agent, Ticker()),
            {},
            {"sink": Counting()},
            {"draining": Draining("sink")},
            _config(mode, states, max_uptime=seconds),
        )
        final = find_latest_state(states)
        assert final is not None
        count, size, span = load_pickle(final / "data" / "sink" / "buffer.pkl")
    span = max(span, 1e-9)
    return count / span, size / span


def parallel_runs(mode: str, seconds: float) -> float:
    """Training runs per second of two Python-heavy trainers (after their start)."""
    trainers = {"a": PythonHeavy(), "b": PythonHeavy()}
    groups = [["a"], ["b"]] if mode == "process" else None
    with tempfile.TemporaryDirectory() as states:
        launch(
            Interaction(Quiet(), Ticker()),
            {},
            {},
            trainers,
            _config(mode, states, max_uptime=seconds, training_groups=groups),
        )
        final = find_latest_state(states)
        assert final is not None
        rates = []
        for name in trainers:
            runs = int(
                (final / "trainers" / name / "global_step").read_text(encoding="utf-8")
            )
            span = load_pickle(final / "trainers" / name / "span.pkl")
            rates.append((runs - 1) / span if runs > 1 and span > 0 else 0.0)
    return sum(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for CI")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # a training process takes seconds to start (torch's import alone); rates are
    # counted from its first run, but the run must outlast its start. --quick only
    # shows that the script works: its runs may end about when the process starts,
    # so its figures are not to be quoted.
    seconds = 4.0 if args.quick else 25.0
    sizes = (10_000,) if args.quick else (10_000, 10_000_000, 100_000_000)
    print(f"machine: {describe_machine(f'torch {torch.__version__}')}")

    print(
        "\n| parameters | process-mode sync | bare copy | ratio |\n|---:|---:|---:|---:|"
    )
    for size in sizes:
        sync, bare = sync_cost(size, 5 if args.quick else 20)
        print(
            f"| {size:,} | {sync * 1e3:.3f} ms | {bare * 1e3:.3f} ms | {sync / bare:.2f}x |"
        )

    print(
        "\n| mode | sync-to-use p50 | p99 | syncs used | launch to first step |"
        "\n|---|---:|---:|---:|---:|"
    )
    for mode in MODES:
        p50, p99, used, first = sync_latency(mode, seconds)
        print(
            f"| {mode} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | {used} | "
            f"{first:.2f} s |"
        )

    small = {"a": 1.0, "b": 2.0, "c": 3}
    big = np.zeros(1 << 18, dtype=np.float32)  # 1 MiB
    print("\n| mode | small items/s | 1 MiB arrays, MB/s |\n|---|---:|---:|")
    rates = {}
    for mode in MODES:
        items, _ = throughput(mode, small, seconds)
        _, size = throughput(mode, big, seconds)
        rates[mode] = (items, size)
        print(f"| {mode} | {items:,.0f} | {size / 1e6:,.0f} |")
    items_ratio = rates["process"][0] / rates["thread"][0]
    bytes_ratio = rates["process"][1] / rates["thread"][1]
    print(
        f"process / thread: small items {items_ratio:.2f}x, arrays {bytes_ratio:.2f}x"
    )

    print("\n| two Python-heavy trainers | runs/s |\n|---|---:|")
    thread_runs = parallel_runs("thread", seconds)
    process_runs = parallel_runs("process", seconds)
    print(f"| one training thread | {thread_runs:.1f} |")
    print(f"| two process groups | {process_runs:.1f} |")
    ratio = process_runs / thread_runs if thread_runs else float("nan")
    print(f"two groups / one thread: {ratio:.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
