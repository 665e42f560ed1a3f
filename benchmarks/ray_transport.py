"""Ray mode's channels against process mode's, on a local two-node Ray cluster.

Three tables, each measured with ``training="ray"`` and ``training="process"`` in
the same run, the modes taking turns:

1. Weight push: a trainer syncs a model of 10k, 10M or 100M float32 parameters at
   a steady pace; each sync stamps the wall time into a buffer of the model, and
   the agent, stepping every millisecond, records how long after the sync it first
   ran on those parameters (p50/p99), and how many bytes per second one push moves
   (size / p50 delay).
2. Data: the agent collects 1 KB arrays as fast as it can; the table gives the
   items per second that reached the trainer's buffer, and those dropped.
3. Real time: a 100 Hz agent with a small torch policy while a trainer trains an
   MLP flat out; the lateness of the agent's steps (actual period minus target).
   Self-contained (``benchmarks/realtime.py`` has the same case for the threads).

The Ray group runs on a worker node of the cluster (a custom resource), so its
parameters cross between two object stores, as they would between machines; every
node is on 127.0.0.1.

Usage: python benchmarks/ray_transport.py [--quick]
"""

import os

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only

import argparse
import itertools
import logging
import statistics
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray.cluster_utils import Cluster
from torch import nn

from _machine import describe_machine
from pamiq_core import (
    Agent,
    Environment,
    FixedIntervalInteraction,
    Interaction,
    LaunchConfig,
    Trainer,
    launch,
)
from pamiq_core import time as pamiq_time
from pamiq_core.data import DataBuffer, DataCollector
from pamiq_core.runtime import RayConfig, RayGroup
from pamiq_core.state_persistence import find_latest_state, load_pickle, save_pickle
from pamiq_core.torch import (
    OptimizersSetup,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)

ON_WORKER = RayConfig(groups=[RayGroup({"resources": {"trainer_box": 1}})])
MODES = ("process", "ray")


@dataclass
class Settings:
    sizes: list[tuple[int, float, float]]  # parameters, push interval, seconds
    data_seconds: float
    realtime_seconds: float
    object_store: int


FULL = Settings(
    sizes=[(10_000, 0.02, 4.0), (10_000_000, 0.2, 8.0), (100_000_000, 1.0, 15.0)],
    data_seconds=5.0,
    realtime_seconds=15.0,
    object_store=2 * 1024**3,
)
QUICK = Settings(
    sizes=[(10_000, 0.02, 1.5)],
    data_seconds=1.0,
    realtime_seconds=1.5,
    object_store=200 * 1024**2,
)


def run(mode: str, states: Path, seconds: float, **parts: Any) -> None:
    config: dict[str, Any] = {
        "states_dir": states,
        "max_uptime": seconds,
        "web_api_address": None,
        "training": mode,
    }
    if mode == "ray":
        config["ray"] = ON_WORKER
    launch(**parts, config=LaunchConfig(**config))


class Still(Environment[int, None]):
    def observe(self) -> int:
        return 0

    def affect(self, action: None) -> None:
        pass


# ---- 1. weight push ------------------------------------------------------------


class Stamped(nn.Module):
    """``size`` parameters and the wall time of the sync that wrote them."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(size))
        self.stamp: torch.Tensor
        self.register_buffer("stamp", torch.zeros((), dtype=torch.float64))


class Pusher(TorchTrainer):
    """Changes the parameters, stamps the time, and syncs, every ``interval``."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval

    def on_training_models_attached(self) -> None:
        self.stamped = self.get_torch_training_model("stamped", Stamped)

    def create_optimizers(self) -> OptimizersSetup:
        return {}

    def train(self) -> None:
        threading.Event().wait(self.interval)
        with torch.no_grad():
            self.stamped.model.weight.add_(1.0)
            self.stamped.model.stamp.fill_(pamiq_time.fixed_time())


class Watcher(Agent[int, None]):
    """Steps every millisecond; notes the delay of each new parameter version."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []
        self.version = 0

    def on_inference_models_attached(self) -> None:
        self.model: TorchInferenceModel[Stamped] = self.get_inference_model("stamped")  # type: ignore[assignment]

    def step(self, observation: int) -> None:
        with self.model.unwrap() as module:
            version = self.model.sync_version
            if version != self.version:
                if self.version > 0:  # (the first is launch's initial sync)
                    self.delays.append(pamiq_time.fixed_time() - float(module.stamp))
                self.version = version
        threading.Event().wait(0.001)


def push_case(
    mode: str, size: int, interval: float, seconds: float, tmp: Path
) -> dict[str, float]:
    agent = Watcher()
    run(
        mode,
        tmp / f"push-{mode}-{size}",
        seconds,
        interaction=Interaction(agent, Still()),
        models={"stamped": TorchTrainingModel(Stamped(size))},
        buffers={},
        trainers={"pusher": Pusher(interval)},
    )
    delays = sorted(agent.delays[1:]) or [float("nan")]  # (the first waits for startup)
    p50 = statistics.median(delays)
    return {
        "updates": len(delays),
        "p50": p50,
        "p99": delays[min(len(delays) - 1, int(0.99 * len(delays)))],
        "rate": 4 * size / p50,
    }


# ---- 2. data ----------------------------------------------------------------------


class Counting(DataBuffer[np.ndarray, int]):
    """Counts the items it receives and keeps none."""

    def __init__(self) -> None:
        super().__init__(max_queue_size=100_000)
        self.count = 0

    def add(self, data: np.ndarray) -> None:
        self.count += 1

    def get_data(self) -> int:
        return self.count

    def __len__(self) -> int:
        return self.count

    def save_state(self, path: Path) -> None:
        save_pickle(self.count, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.count = load_pickle(path.with_suffix(".pkl"))


class Producer(Agent[int, None]):
    def __init__(self) -> None:
        super().__init__()
        self.item = np.zeros(256, dtype=np.float32)  # 1 KB
        self.collected = 0

    def on_data_collectors_attached(self) -> None:
        self.items: DataCollector[np.ndarray] = self.get_data_collector("items")

    def step(self, observation: int) -> None:
        self.items.collect(self.item)
        self.collected += 1


class Draining(Trainer):
    def __init__(self) -> None:
        super().__init__("items", min_buffer_size=1, min_new_data_count=1)

    def on_data_users_attached(self) -> None:
        self.items = self.get_data_user("items")

    def train(self) -> None:
        self.items.get_data()


def data_case(mode: str, seconds: float, tmp: Path) -> dict[str, float]:
    agent = Producer()
    states = tmp / f"data-{mode}"
    run(
        mode,
        states,
        seconds,
        interaction=Interaction(agent, Still()),
        models={},
        buffers={"items": Counting()},
        trainers={"draining": Draining()},
    )
    final = find_latest_state(states)
    assert final is not None
    received = load_pickle(final / "data" / "items" / "buffer.pkl")
    return {
        "collected": agent.collected,
        "received": received,
        "per_second": received / seconds,
        "dropped": agent.collected - received,
    }


# ---- 3. real time ---------------------------------------------------------------

RATE = 100.0


class Sensor(Environment[torch.Tensor, int]):
    def observe(self) -> torch.Tensor:
        return torch.ones(1, 32)

    def affect(self, action: int) -> None:
        pass


class Pilot(Agent[torch.Tensor, int]):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_inference_models_attached(self) -> None:
        self.policy: TorchInferenceModel[nn.Module] = self.get_inference_model("policy")  # type: ignore[assignment]

    def step(self, observation: torch.Tensor) -> int:
        self.times.append(pamiq_time.fixed_perf_counter())
        return int(self.policy(observation).argmax())


class Grinder(TorchTrainer):
    """Trains an MLP on random batches as fast as it can, syncing the policy."""

    def on_training_models_attached(self) -> None:
        self.mlp = self.get_torch_training_model("mlp")
        self.policy = self.get_torch_training_model("policy")

    def create_optimizers(self) -> OptimizersSetup:
        return {"adam": torch.optim.Adam(self.mlp.model.parameters(), lr=1e-3)}

    def train(self) -> None:
        for _ in range(4):
            loss = self.mlp(torch.randn(256, 512)).pow(2).mean()
            self.optimizers["adam"].zero_grad()
            loss.backward()
            self.optimizers["adam"].step()


def realtime_case(mode: str, seconds: float, tmp: Path) -> dict[str, float]:
    agent = Pilot()
    run(
        mode,
        tmp / f"realtime-{mode}",
        seconds,
        interaction=FixedIntervalInteraction.with_sleep_adjustor(
            agent, Sensor(), 1.0 / RATE
        ),
        models={
            "policy": TorchTrainingModel(
                nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))
            ),
            "mlp": TorchTrainingModel(
                nn.Sequential(nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 512)),
                has_inference_model=False,
            ),
        },
        buffers={},
        trainers={"grinder": Grinder()},
    )
    periods = [b - a for a, b in itertools.pairwise(agent.times)]
    periods = periods[len(periods) // 10 :]  # past the warm-up
    late = sorted(max(0.0, p - 1.0 / RATE) * 1e3 for p in periods) or [float("nan")]
    return {
        "steps": len(agent.times),
        "p50": statistics.median(late),
        "p99": late[min(len(late) - 1, int(0.99 * len(late)))],
        "max": late[-1],
    }


# ---- main -------------------------------------------------------------------------


def start_cluster(object_store: int) -> Cluster:
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "node_ip_address": "127.0.0.1",
            "object_store_memory": object_store,
        },
    )
    cluster.add_node(
        num_cpus=2,
        resources={"trainer_box": 1},
        node_ip_address="127.0.0.1",
        object_store_memory=object_store,
    )
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    addresses = {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}
    assert addresses == {"127.0.0.1"}, f"Ray left loopback: {addresses}"
    return cluster


def megabytes(size: float) -> str:
    return f"{size / 1e6:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for CI")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    logging.disable(logging.WARNING)
    print(
        f"machine: {describe_machine(f'torch {torch.__version__}, ray {ray.__version__}')}"
    )
    cluster = start_cluster(settings.object_store)
    try:
        with tempfile.TemporaryDirectory() as directory:
            tmp = Path(directory)
            print("\nWeight push: from a sync to the agent's first step on it\n")
            print("| parameters | mode | updates seen | p50 ms | p99 ms | push MB/s |")
            print("| --- | --- | ---: | ---: | ---: | ---: |")
            for size, interval, seconds in settings.sizes:
                for mode in MODES:
                    r = push_case(mode, size, interval, seconds, tmp)
                    print(
                        f"| {size:,} | {mode} | {r['updates']} | {r['p50'] * 1e3:.1f} "
                        f"| {r['p99'] * 1e3:.1f} | {megabytes(r['rate'])} |",
                        flush=True,
                    )
            print("\nData: 1 KB items collected as fast as the agent can\n")
            print("| mode | collected | received | received/s | dropped |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for mode in MODES:
                r = data_case(mode, settings.data_seconds, tmp)
                print(
                    f"| {mode} | {r['collected']:,} | {r['received']:,} | "
                    f"{r['per_second']:,.0f} | {r['dropped']:,} |",
                    flush=True,
                )
            print(f"\nReal time: a {RATE:g} Hz agent while a trainer trains flat out\n")
            print("| mode | steps | lateness p50 ms | p99 ms | max ms |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for mode in ("thread", *MODES):
                r = realtime_case(mode, settings.realtime_seconds, tmp)
                print(
                    f"| {mode} | {r['steps']} | {r['p50']:.3f} | {r['p99']:.3f} "
                    f"| {r['max']:.3f} |",
                    flush=True,
                )
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
