"""A small system without torch whose every part draws random numbers.

A point does a random walk in a box (the environment's own numpy generator adds
noise); the agent pushes it back with a learned gain plus exploration noise from its
own Python generator, logs where the point is, and collects each transition into a
ring buffer and each observation into a random-replacement buffer. The trainer
samples batches from the ring buffer (the buffer's generator), nudges the gain with a
learning rate jittered by its own generator, and logs the gain. So any
nondeterminism anywhere shows up in the gain, the buffers or the logged values.

The box and a bounded nudge keep every value finite however the threads interleave:
a trainer starved for a while on a busy machine must not find the point far away and
throw the gain past where the walk diverges.
"""

from pathlib import Path
from typing import Any

import numpy as np

from pamiq_core import (
    Agent,
    Environment,
    InferenceModel,
    Interaction,
    Trainer,
    TrainingModel,
    time,
)
from pamiq_core.data import DataBuffer, DataCollector, DataUser
from pamiq_core.data.impls import DictRingBuffer, RandomReplacementBuffer
from pamiq_core.seeding import RandomMixin
from pamiq_core.state_persistence import load_pickle, save_pickle


class Gain(InferenceModel):
    def __init__(self) -> None:
        self.gain = 0.0

    def infer(self, x: float) -> float:
        return -self.gain * x


class GainModel(TrainingModel[Gain]):
    def __init__(self) -> None:
        super().__init__()
        self.gain = 0.0

    def _create_inference_model(self) -> Gain:
        return Gain()

    def forward(self, x: float) -> float:
        return -self.gain * x

    def sync_impl(self, inference_model: Gain) -> None:
        inference_model.gain = self.gain

    def save_state(self, path: Path) -> None:
        save_pickle(self.gain, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.gain = load_pickle(path.with_suffix(".pkl"))


BOX = 10.0
"""How far from 0 the point may go."""


class RandomWalk(Environment[float, float], RandomMixin):
    def __init__(self) -> None:
        super().__init__()
        self.x = 1.0

    def observe(self) -> float:
        return self.x

    def affect(self, action: float) -> None:
        moved = self.x + action + float(self.np_rng.normal(0.0, 0.1))
        self.x = min(max(moved, -BOX), BOX)

    def save_state(self, path: Path) -> None:
        save_pickle(self.x, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.x = load_pickle(path.with_suffix(".pkl"))


class NoisyAgent(Agent[float, float], RandomMixin):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.times: list[float] = []

    def on_inference_models_attached(self) -> None:
        self.policy = self.get_inference_model("gain")

    def on_data_collectors_attached(self) -> None:
        self.transitions: DataCollector[dict[str, Any]] = self.get_data_collector(
            "transitions"
        )
        self.observations: DataCollector[float] = self.get_data_collector(
            "observations"
        )

    def step(self, observation: float) -> float:
        self.times.append(time.time())
        action = self.policy(observation) + self.rng.gauss(0.0, 0.5)
        self.transitions.collect({"obs": observation, "action": action})
        self.observations.collect(observation)
        self.log_scalar("x", observation)
        self.steps += 1
        return action

    def save_state(self, path: Path) -> None:
        save_pickle(self.steps, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.steps = load_pickle(path.with_suffix(".pkl"))


class GainTrainer(Trainer, RandomMixin):
    def __init__(self) -> None:
        super().__init__("transitions", min_buffer_size=4, min_new_data_count=2)
        self.runs = 0

    def on_training_models_attached(self) -> None:
        self.model: GainModel = self.get_training_model("gain")  # type: ignore[assignment]

    def on_data_users_attached(self) -> None:
        self.transitions: DataUser[Any] = self.get_data_user("transitions")
        self.observations: DataUser[Any] = self.get_data_user("observations")

    def train(self) -> None:
        self.observations.update()
        buffer: DictRingBuffer[Any] = self.transitions.buffer  # type: ignore[assignment]
        batch = buffer.sample(4)
        rate = 0.01 * (1.0 + self.rng.random())
        error = np.mean(batch["obs"] * (batch["obs"] + batch["action"]))
        error = float(np.clip(error, -1.0, 1.0))
        self.model.gain += rate * error
        self.runs += 1
        self.log_scalar("gain", self.model.gain)

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle(self.runs, path / "runs.pkl")

    def load_state(self, path: Path) -> None:
        super().load_state(path)
        self.runs = load_pickle(path / "runs.pkl")


def build(
    interaction_factory: type[Interaction[Any, Any]] | None = None,
) -> dict[str, Any]:
    """Fresh components, as ``launch``'s keyword arguments."""
    agent, environment = NoisyAgent(), RandomWalk()
    interaction = Interaction(agent, environment)
    buffers: dict[str, DataBuffer[Any, Any]] = {
        "transitions": DictRingBuffer(
            {"obs": ((), np.float64), "action": ((), np.float64)}, max_size=16
        ),
        "observations": RandomReplacementBuffer[float](max_size=8),
    }
    return {
        "interaction": interaction,
        "models": {"gain": GainModel()},
        "buffers": buffers,
        "trainers": {"gain": GainTrainer()},
    }


def fingerprint(system: dict[str, Any]) -> dict[str, Any]:
    """Everything that a nondeterministic run would change, as plain values."""
    interaction: Interaction[Any, Any] = system["interaction"]
    buffers = system["buffers"]
    agent: NoisyAgent = interaction.agent  # type: ignore[assignment]
    environment: RandomWalk = interaction.environment  # type: ignore[assignment]
    transitions = buffers["transitions"].get_data()
    return {
        "gain": system["models"]["gain"].gain,
        "x": environment.x,
        "steps": agent.steps,
        "runs": system["trainers"]["gain"].runs,
        "global_step": system["trainers"]["gain"].global_step,
        "transitions": {k: v.tobytes() for k, v in transitions.items()},
        "observations": buffers["observations"].get_data(),
    }


class DrawingTrainer(Trainer, RandomMixin):
    """Keeps its first draws from the global generators and from its own."""

    def __init__(self) -> None:
        super().__init__()
        self.draws: tuple[float, float, float] | None = None

    def train(self) -> None:
        if self.draws is None:
            import random

            self.draws = (random.random(), float(np.random.random()), self.rng.random())

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle(self.draws, path / "draws.pkl")


def follow_the_real_clocks() -> None:
    """Put pamiq time back on the real clocks, as other tests expect to find it.

    A lock-step run leaves it at the run's last (virtual) reading.
    """
    import time as std_time

    time.load_state_dict(
        {
            "scaled_anchor_time": std_time.time(),
            "scaled_anchor_perf_counter": std_time.perf_counter(),
            "scaled_anchor_monotonic": std_time.monotonic(),
        }
    )
