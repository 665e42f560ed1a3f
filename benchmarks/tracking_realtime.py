"""Does logging scalars cost a real-time agent its schedule?

A 100 Hz agent (``FixedIntervalInteraction.with_sleep_adjustor``) runs a small
torch policy every step while a ``TorchTrainer`` trains an MLP without pause, as in
a real system. Three cases of that system, the same but for:

- no logging: nothing is logged, no logger is configured;
- logging: the agent logs 10 scalars a step (1,000 a second) with
  ``self.log_scalar``, the trainer logs its loss and step size after every run,
  into a CSV file and TensorBoard event files;
- logging, dashboard open: the same, and another process polls
  ``GET /api/metrics`` twice a second with the scalars cursor, as the dashboard
  does (the first request takes the whole history).

The cases take turns in one run (a new random order every round), each for
``--seconds`` after a warm-up second, so they share the machine's load. For each:
the steps kept (steps taken / steps scheduled) and the lateness of the steps: how
late each step starts against its schedule, the first measured step at time 0 and
one step every 10 ms after it (the interaction does not catch up after a late
step, so lateness adds up over a segment), pooled over the rounds.

Usage: python benchmarks/tracking_realtime.py [--quick] [--seconds S] [--rounds N]
"""

import argparse
import json
import logging
import random
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from _machine import describe_machine
from pamiq_core import Environment, FixedIntervalInteraction, LaunchConfig, launch, time
from pamiq_core.torch import (
    OptimizersSetup,
    TorchAgent,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)
from pamiq_core.tracking import CSVLogger, TensorBoardLogger

RATE = 100.0
"""Agent steps per second."""
SCALARS_PER_STEP = 10
"""Values the agent logs each step: 1,000 a second at RATE."""
WARM_UP = 1.0
"""Seconds at the start of a segment that are not measured."""
TAIL = 1.0
"""Seconds the system runs after the measured window (so that it surely ran on)."""
CASES = ("no logging", "logging", "logging, dashboard open")

# The dashboard's requests, from another process (a browser is one): the whole
# history first, then, twice a second, what changed after the previous answer.
POLLER = """
import json, sys, time, httpx
url = sys.argv[1]
polls, received, cursor = 0, 0, None
with httpx.Client(timeout=5) as client:
    while True:
        try:
            params = {} if cursor is None else {"scalars_since": cursor}
            answer = client.get(url, params=params)
        except httpx.HTTPError:
            if polls:
                break  # the system has stopped
            time.sleep(0.05)
            continue
        polls += 1
        received += len(answer.content)
        cursor = answer.json()["scalars"]["cursor"]
        time.sleep(0.5)
print(json.dumps({"polls": polls, "bytes": received}))
"""


class Sensor(Environment[torch.Tensor, int]):
    def __init__(self) -> None:
        self.observation = torch.randn(1, 32)

    def observe(self) -> torch.Tensor:
        return self.observation

    def affect(self, action: int) -> None:
        pass


class Policy(TorchAgent[torch.Tensor, int]):
    """Runs its policy each step, notes when the step started, maybe logs."""

    def __init__(self, logs: bool) -> None:
        super().__init__()
        self.logs = logs
        self.starts: list[float] = []
        self.names = [f"signal{i}" for i in range(SCALARS_PER_STEP)]

    def on_inference_models_attached(self) -> None:
        self.policy: TorchInferenceModel[nn.Module] = self.get_torch_inference_model(
            "policy"
        )

    def step(self, observation: torch.Tensor) -> int:
        self.starts.append(time.fixed_perf_counter())
        scores = self.policy(observation)
        action = int(scores.argmax())
        if self.logs:
            log = self.log_scalar
            for index, name in enumerate(self.names):
                log(name, float(index) + action)
        return action


class Fitter(TorchTrainer):
    """Trains an MLP on random batches, run after run; logs after every run."""

    def __init__(self, logs: bool) -> None:
        super().__init__()
        self.logs = logs
        self.runs = 0

    def on_training_models_attached(self) -> None:
        self.mlp = self.get_torch_training_model("mlp")

    def create_optimizers(self) -> OptimizersSetup:
        return {"sgd": torch.optim.SGD(self.mlp.model.parameters(), lr=1e-3)}

    def train(self) -> None:
        optimizer = self.optimizers["sgd"]
        loss = torch.zeros(())
        for _ in range(4):
            loss = self.mlp(torch.randn(128, 256)).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.runs += 1
        if self.logs:
            self.log_scalars({"loss": loss.item(), "lr": 1e-3})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def run_segment(case: str, seconds: float, folder: Path) -> dict[str, Any]:
    """Run the system of ``case`` and measure its steps in a window of ``seconds``."""
    logs = case != "no logging"
    agent, trainer = Policy(logs), Fitter(logs)
    port = free_port()
    poller = None
    if case == "logging, dashboard open":
        url = f"http://localhost:{port}/api/metrics"
        poller = subprocess.Popen(
            [sys.executable, "-c", POLLER, url], stdout=subprocess.PIPE, text=True
        )
    loggers = (
        [CSVLogger(folder / "scalars.csv"), TensorBoardLogger(folder / "runs")]
        if logs
        else []
    )
    launch(
        FixedIntervalInteraction.with_sleep_adjustor(agent, Sensor(), 1.0 / RATE),
        {
            "policy": TorchTrainingModel(
                nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))
            ),
            "mlp": TorchTrainingModel(
                nn.Sequential(
                    nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU()
                ),
                has_inference_model=False,
            ),
        },
        {},
        {"fitter": trainer},
        LaunchConfig(
            states_dir=folder / "states",
            max_uptime=WARM_UP + seconds + TAIL,
            web_api_address=("localhost", port),
            loggers=loggers,
        ),
    )
    polled: dict[str, int] = {}
    if poller is not None:
        out, _ = poller.communicate(timeout=30)
        polled = json.loads(out)
    # The window: ``seconds`` from the first step after the warm-up.
    starts = agent.starts
    first = next(i for i, t in enumerate(starts) if t - starts[0] >= WARM_UP)
    origin = starts[first]
    measured = [t for t in starts[first:] if t < origin + seconds]
    if starts[-1] < origin + seconds:
        print(f"warning: the {case!r} system stopped inside its window", flush=True)
    lateness = [max(0.0, t - (origin + k / RATE)) * 1e3 for k, t in enumerate(measured)]
    return {
        "steps": len(measured),
        "scheduled": round(seconds * RATE),
        "lateness": lateness,
        "runs": trainer.runs,
        **polled,
    }


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for CI")
    parser.add_argument("--seconds", type=float, default=None, help="per segment")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (1.5 if args.quick else 20.0)
    rounds = args.rounds or (1 if args.quick else 3)
    logging.disable(logging.WARNING)
    print(f"machine: {describe_machine(f'torch {torch.__version__}')}")
    print(
        f"agent at {RATE:g} Hz; {rounds} rounds of {seconds:g} s per case "
        f"(after {WARM_UP:g} s of warm-up), the cases in a new order every round\n"
    )
    results: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            order = list(CASES)
            random.shuffle(order)
            for case in order:
                folder = Path(tmp) / f"{round_}-{CASES.index(case)}"
                folder.mkdir()
                results[case].append(run_segment(case, seconds, folder))

    print(
        "| case | steps kept | lateness p50 ms | p99 ms | max ms "
        "| trainer runs/s | dashboard polls, KB/poll |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    p99: dict[str, float] = {}
    for case in CASES:
        segments = results[case]
        late = sorted(x for s in segments for x in s["lateness"])
        kept = sum(s["steps"] for s in segments) / sum(s["scheduled"] for s in segments)
        runs = sum(s["runs"] for s in segments) / ((WARM_UP + seconds + TAIL) * rounds)
        polls = sum(s.get("polls", 0) for s in segments)
        polled = (
            f"{polls}, {sum(s['bytes'] for s in segments) / polls / 1e3:.1f}"
            if polls
            else "-"
        )
        p99[case] = percentile(late, 0.99)
        print(
            f"| {case} | {kept:.1%} | {statistics.median(late):.2f} "
            f"| {p99[case]:.2f} | {late[-1]:.2f} | {runs:.1f} | {polled} |"
        )
    base = max(p99["no logging"], 1e-3)
    print(
        f"\np99 lateness against no logging: logging {p99['logging'] / base:.2f}x, "
        f"with the dashboard open {p99['logging, dashboard open'] / base:.2f}x "
        "(target: within 1.10x)"
    )


if __name__ == "__main__":
    main()
