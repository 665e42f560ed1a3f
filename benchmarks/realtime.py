"""Does a fixed-rate agent keep its period while a trainer saturates the CPU?

A 100 Hz agent (``FixedIntervalInteraction``) calls a small torch model every step
while a ``TorchTrainer`` trains an MLP continuously. The table gives the lateness of
the agent's steps (actual period minus the target, when positive) for:

- ours: launch's defaults (0.5 ms thread switch interval; torch intra-op threads
  = CPU count - 1, leaving a core to the agent);
- interpreter defaults: Python's 5 ms switch interval and torch's own thread count;
- no training: the same agent alone, for reference.

All cases run in this process, one after the other, so they share the machine.

Usage: python benchmarks/realtime.py [--quick] [--seconds S]
"""

import argparse
import itertools
import logging
import statistics
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

RATE = 100.0


class Sensor(Environment[torch.Tensor, int]):
    def __init__(self) -> None:
        self.observation = torch.randn(1, 32)

    def observe(self) -> torch.Tensor:
        return self.observation

    def affect(self, action: int) -> None:
        pass


class TimedAgent(TorchAgent[torch.Tensor, int]):
    """Calls its policy every step and records when each step started."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_inference_models_attached(self) -> None:
        self.policy: TorchInferenceModel[nn.Module] = self.get_torch_inference_model(
            "policy"
        )

    def step(self, observation: torch.Tensor) -> int:
        self.times.append(time.fixed_perf_counter())
        return int(self.policy(observation).argmax())


class BusyTrainer(TorchTrainer):
    """Trains a 1M-parameter MLP on random batches, as fast as it can."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def on_training_models_attached(self) -> None:
        self.mlp = self.get_torch_training_model("mlp")

    def create_optimizers(self) -> OptimizersSetup:
        return {"adam": torch.optim.Adam(self.mlp.model.parameters(), lr=1e-3)}

    def train(self) -> None:
        optimizer = self.optimizers["adam"]
        for _ in range(4):
            batch = torch.randn(256, 512)
            loss = self.mlp(batch).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        self.runs += 1


def lateness_ms(times: list[float]) -> list[float]:
    periods = [b - a for a, b in itertools.pairwise(times)]
    periods = periods[len(periods) // 10 :]  # skip the warm-up
    return [max(0.0, p - 1.0 / RATE) * 1e3 for p in periods]


def run_case(
    seconds: float, training: bool, ours: bool, states: Path
) -> dict[str, Any]:
    agent = TimedAgent()
    models: dict[str, Any] = {
        "policy": TorchTrainingModel(
            nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))
        )
    }
    trainers: dict[str, Any] = {}
    trainer = BusyTrainer()
    if training:
        models["mlp"] = TorchTrainingModel(
            nn.Sequential(
                nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU()
            ),
            has_inference_model=False,
        )
        trainers["busy"] = trainer
    settings: dict[str, Any] = (
        {} if ours else {"switch_interval": None, "torch_num_threads": None}
    )
    launch(
        FixedIntervalInteraction.with_sleep_adjustor(agent, Sensor(), 1.0 / RATE),
        models,
        {},
        trainers,
        LaunchConfig(
            states_dir=states,
            max_uptime=seconds,
            web_api_address=None,
            **settings,
        ),
    )
    late = sorted(lateness_ms(agent.times))
    return {
        "steps": len(agent.times),
        "runs": trainer.runs,
        "p50": statistics.median(late),
        "p99": late[min(len(late) - 1, int(0.99 * len(late)))],
        "max": late[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for CI")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 30.0)
    logging.disable(logging.WARNING)
    print(
        f"machine: {describe_machine(f'torch {torch.__version__} (default {torch.get_num_threads()} threads)')}"
    )
    print(f"agent at {RATE:g} Hz, {seconds:g} s per case\n")
    print("| case | steps | trainer runs | lateness p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("ours (launch defaults)", True, True),
            ("interpreter defaults", True, False),
            ("no training (reference)", False, True),
        ]
        results: dict[str, dict[str, Any]] = {}
        for index, (name, training, ours) in enumerate(cases):
            result = run_case(seconds, training, ours, Path(tmp) / str(index))
            results[name] = result
            print(
                f"| {name} | {result['steps']} | {result['runs']} | "
                f"{result['p50']:.3f} | {result['p99']:.3f} | {result['max']:.3f} |"
            )
    ours_p99 = results["ours (launch defaults)"]["p99"]
    default_p99 = results["interpreter defaults"]["p99"]
    print(
        f"\np99 lateness, interpreter defaults / ours: "
        f"{default_p99 / max(ours_p99, 1e-6):.1f}x (target: ours under 2 ms)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
