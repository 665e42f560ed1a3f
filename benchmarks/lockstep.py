"""How fast lock-step mode runs: agent steps per second, and an hour of the demo.

Measured in one run, on this machine:

1. Agent steps per second of a no-op agent and environment (an ``Interaction``,
   which does not sleep) launched with ``training="thread"`` and with
   ``training="lockstep"``, taking turns, each run timed from its first to its last
   step by the agent itself. Two systems: no trainer, and one always-trainable
   trainer with an empty ``train()`` (in lock-step mode it runs after every step;
   in thread mode in the training thread, as often as it gets the GIL).
2. The wall time of one hour of pamiq time of the demo (``samples/demo``: a torch
   model learning a pendulum's dynamics, 50 steps per second) in lock-step mode,
   one round of trainers after every step (torch is imported and warmed up
   first). ``--quick`` runs 20 pamiq seconds of it and projects the hour.

Usage: python benchmarks/lockstep.py [--quick] [--demo-seconds S]
"""

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import describe_machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for samples.demo

import numpy as np
import torch
from samples.demo.agent import ExploringPredictor
from samples.demo.pendulum import Pendulum
from samples.demo.predictor import Predictor
from samples.demo.trainer import DynamicsTrainer

from pamiq_core import (
    Agent,
    Environment,
    FixedIntervalInteraction,
    Interaction,
    LaunchConfig,
    Trainer,
    launch,
)
from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.torch import TorchTrainingModel


class NoOpEnv(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class TimedAgent(Agent[int, int]):
    """A no-op agent that notes the real time of its first and last step."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.first = 0.0
        self.last = 0.0

    def step(self, observation: int) -> int:
        now = time.perf_counter()
        if self.steps == 0:
            self.first = now
        self.last = now
        self.steps += 1
        return observation

    def rate(self) -> float:
        span = self.last - self.first
        return (self.steps - 1) / span if span > 0 else 0.0


class EmptyTrainer(Trainer):
    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def train(self) -> None:
        self.runs += 1


def steps_per_second(
    training: str, with_trainer: bool, size: int, tmp: Path
) -> tuple[float, int]:
    """Agent steps per second of one launch, and the training runs it made."""
    agent = TimedAgent()
    trainer = EmptyTrainer()
    options: dict[str, Any] = (
        {"training": "lockstep", "max_steps": size}
        if training == "lockstep"
        # Thread mode has no step limit: run about as long as lock-step mode.
        else {"training": "thread", "max_uptime": size / 100_000}
    )
    launch(
        Interaction(agent, NoOpEnv()),
        models={},
        buffers={},
        trainers={"empty": trainer} if with_trainer else {},
        config=LaunchConfig(states_dir=tmp, web_api_address=None, **options),
    )
    return agent.rate(), trainer.runs


def demo_hour(pamiq_seconds: float, tmp: Path) -> tuple[float, float, int, int]:
    """Real seconds ``pamiq_seconds`` of the demo take in lock-step mode.

    Returns:
        The real seconds, the part of them spent in the trainer's ``train()``, the
        agent's steps and the trainer's runs.
    """

    class TimedTrainer(DynamicsTrainer):
        training_seconds = 0.0

        def train(self) -> None:
            start = time.perf_counter()
            super().train()
            self.training_seconds += time.perf_counter() - start

    # The first optimizer imports much of torch (seconds): not part of a run.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    agent = ExploringPredictor(report_interval=60.0, seed=0)
    trainer = TimedTrainer()
    start = time.perf_counter()
    launch(
        FixedIntervalInteraction.with_sleep_adjustor(
            agent, Pendulum(seed=0), interval=1.0 / 50
        ),
        models={"dynamics": TorchTrainingModel(Predictor())},
        buffers={
            "transitions": DictRingBuffer(
                {
                    "state": ((2,), np.float32),
                    "action": ((), np.float32),
                    "next_state": ((2,), np.float32),
                },
                max_size=20_000,
            )
        },
        trainers={"dynamics": trainer},
        config=LaunchConfig(
            states_dir=tmp,
            web_api_address=None,
            training="lockstep",
            seed=0,
            max_uptime=pamiq_seconds,
        ),
    )
    return (
        time.perf_counter() - start,
        trainer.training_seconds,
        agent.steps,
        trainer.global_step,
    )


def run(quick: bool, tmp: Path, demo_seconds: float | None) -> None:
    size = 10_000 if quick else 200_000
    repeats = 2 if quick else 5
    print("machine:", describe_machine())
    print(
        f"no-op system: each launch takes about {size:,} steps; "
        f"{repeats} launches per mode, taking turns\n"
    )
    print(
        "| system | thread mode steps/s (worst .. best) | lock-step steps/s "
        "(worst .. best) | lock-step / thread (worst .. best) |"
    )
    print("|---|---:|---:|---:|")
    for with_trainer in (False, True):
        rates: dict[str, list[float]] = {"thread": [], "lockstep": []}
        runs: dict[str, int] = {"thread": 0, "lockstep": 0}
        for index in range(repeats):
            for mode in ("thread", "lockstep"):
                rate, trained = steps_per_second(
                    mode, with_trainer, size, tmp / f"{mode}-{with_trainer}-{index}"
                )
                rates[mode].append(rate)
                runs[mode] += trained
        ratios = [
            lock / thread
            for lock, thread in zip(rates["lockstep"], rates["thread"], strict=True)
        ]
        name = "agent + one empty trainer" if with_trainer else "agent only"
        print(
            f"| {name} | {min(rates['thread']):,.0f} .. {max(rates['thread']):,.0f} | "
            f"{min(rates['lockstep']):,.0f} .. {max(rates['lockstep']):,.0f} | "
            f"{min(ratios):.2f}x .. {max(ratios):.2f}x |"
        )
        if with_trainer:
            print(
                f"\n(training runs in all launches: thread mode {runs['thread']:,}, "
                f"lock-step mode {runs['lockstep']:,}: one per step)"
            )

    pamiq_seconds = demo_seconds or (20.0 if quick else 3600.0)
    wall, training, steps, trained = demo_hour(pamiq_seconds, tmp / "demo")
    hour = wall * 3600.0 / pamiq_seconds
    print(
        f"\ndemo in lock-step mode: {pamiq_seconds:g} pamiq seconds ({steps:,} steps, "
        f"{trained:,} training runs) took {wall:.1f} s of real time, of which "
        f"{training:.1f} s in the trainer's train() ({training / wall:.0%})"
    )
    what = "measured" if pamiq_seconds == 3600.0 else "projected"
    print(f"one hour of pamiq time: {hour:.0f} s real ({what}), {3600.0 / hour:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds, for CI")
    parser.add_argument(
        "--demo-seconds",
        type=float,
        default=None,
        help="pamiq seconds of the demo to run (default: 3600, or 20 with --quick); "
        "a shorter run projects the hour",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        run(args.quick, Path(tmp), args.demo_seconds)


if __name__ == "__main__":
    main()
