"""A small system whose training side can run in another process (all picklable).

The environment counts up; the agent collects each observation and asks its model
to scale it; the trainer consumes the collected numbers, records every item it saw
(in order) and sets the model's factor to the number of items seen; the model syncs.
Knobs make a trainer fail, hang or kill its own process at a given run.
"""

import os
import signal
import threading
from pathlib import Path
from typing import Any

from pamiq_core import (
    Agent,
    Environment,
    InferenceModel,
    Interaction,
    LaunchConfig,
    Trainer,
    TrainingModel,
    launch,
)
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.state_persistence import load_pickle, save_pickle


class Scale(InferenceModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def infer(self, x: float) -> float:
        return self.factor * x


class ScaleModel(TrainingModel[Scale]):
    def __init__(self) -> None:
        super().__init__()
        self.factor = 0.0

    def _create_inference_model(self) -> Scale:
        return Scale(self.factor)

    def forward(self, x: float) -> float:
        return self.factor * x

    def sync_impl(self, inference_model: Scale) -> None:
        inference_model.factor = self.factor

    def save_state(self, path: Path) -> None:
        save_pickle(self.factor, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.factor = load_pickle(path.with_suffix(".pkl"))


class Counter(Environment[int, float]):
    def __init__(self) -> None:
        self.count = 0

    def observe(self) -> int:
        self.count += 1
        return self.count

    def affect(self, action: float) -> None:
        pass

    def save_state(self, path: Path) -> None:
        save_pickle(self.count, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.count = load_pickle(path.with_suffix(".pkl"))


class Collector(Agent[int, float]):
    """Collects every observation into each named buffer; remembers the factors."""

    def __init__(
        self, buffers: tuple[str, ...] = ("numbers",), model: str = "scale"
    ) -> None:
        super().__init__()
        self.buffers = buffers
        self.model_name = model
        self.steps = 0
        self.factors_seen: set[float] = set()

    def on_inference_models_attached(self) -> None:
        self.model: Scale = self.get_inference_model(self.model_name)  # type: ignore[assignment]

    def on_data_collectors_attached(self) -> None:
        self.collectors: list[DataCollector[int]] = [
            self.get_data_collector(name) for name in self.buffers
        ]

    def step(self, observation: int) -> float:
        self.steps += 1
        for collector in self.collectors:
            collector.collect(observation)
        self.factors_seen.add(self.model.factor)
        threading.Event().wait(0.001)
        return self.model(observation)


class Consumer(Trainer):
    """Takes every new item of its buffer, in order, and counts them into a model.

    Args:
        buffer: The buffer it consumes.
        model: The model it trains.
        fail_at, hang_at, kill_at: The run at which it raises, blocks forever, or
            kills its own process with SIGKILL.
    """

    def __init__(
        self,
        buffer: str = "numbers",
        model: str = "scale",
        fail_at: int | None = None,
        hang_at: int | None = None,
        kill_at: int | None = None,
    ) -> None:
        super().__init__(buffer, min_buffer_size=1, min_new_data_count=1)
        self.buffer_name, self.model_name = buffer, model
        self.fail_at, self.hang_at, self.kill_at = fail_at, hang_at, kill_at
        self.runs = 0
        self.seen: list[int] = []
        self.pid = 0

    def on_training_models_attached(self) -> None:
        self.model: ScaleModel = self.get_training_model(self.model_name)  # type: ignore[assignment]

    def on_data_users_attached(self) -> None:
        self.numbers = self.get_data_user(self.buffer_name)

    def train(self) -> None:
        self.runs += 1
        self.pid = os.getpid()
        if self.runs == self.fail_at:
            raise ValueError(f"trainer failed at run {self.runs}")
        if self.runs == self.hang_at:
            threading.Event().wait()
        if self.runs == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        items = self.numbers.get_data()
        self.seen.extend(items[len(self.seen) :] if len(items) > len(self.seen) else [])
        self.model.factor = float(len(self.seen))

    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle((self.runs, self.seen, self.pid), path / "consumer.pkl")

    def load_state(self, path: Path) -> None:
        super().load_state(path)
        self.runs, self.seen, self.pid = load_pickle(path / "consumer.pkl")


class System:
    def __init__(self, **trainer_options: Any) -> None:
        self.env = Counter()
        self.agent = Collector()
        self.model = ScaleModel()
        self.buffer = SequentialBuffer[int](1_000_000)
        self.trainer = Consumer(**trainer_options)

    def launch(self, **config: Any) -> None:
        config.setdefault("web_api_address", None)
        launch(
            Interaction(self.agent, self.env),
            {"scale": self.model},
            {"numbers": self.buffer},
            {"consumer": self.trainer},
            LaunchConfig(**config),
        )


class HandedConsumer(Consumer):
    """Keeps the model it was handed instead of fetching it (a newcomer's mistake)."""

    def __init__(self, model: ScaleModel) -> None:
        super().__init__()
        self.handed = model

    def on_training_models_attached(self) -> None:
        self.model = self.handed
