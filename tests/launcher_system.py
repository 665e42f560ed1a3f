"""A small, complete system for launcher tests (also run as a child process).

The environment counts up; the agent asks its model to double each observation and
collects the observation; the trainer learns the "factor" of the model from the
data (it just counts the items it saw, so progress is visible), and the model syncs.

As a script: ``python launcher_system.py STATES_DIR MODE`` launches it, printing
"running" once the agent has stepped and the trainer has begun a run, and "stopping"
once a shutdown has torn the environment down. MODE ``slow-trainer`` makes a
training run block for a long time, for the Ctrl-C tests.
"""

import signal
import sys
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


class Multiplier(InferenceModel):
    def __init__(self, factor: float | None) -> None:
        self.factor = factor

    def infer(self, x: float) -> float:
        if self.factor is None:
            raise RuntimeError("inference ran before the first sync")
        return self.factor * x


class FactorModel(TrainingModel[Multiplier]):
    def __init__(self) -> None:
        super().__init__()
        self.factor = 2.0
        self.items_seen = 0

    def _create_inference_model(self) -> Multiplier:
        return Multiplier(None)  # unusable until synced

    def forward(self, x: float) -> float:
        return self.factor * x

    def sync_impl(self, inference_model: Multiplier) -> None:
        inference_model.factor = self.factor

    def save_state(self, path: Path) -> None:
        save_pickle((self.factor, self.items_seen), path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.factor, self.items_seen = load_pickle(path.with_suffix(".pkl"))


class Counter(Environment[int, float]):
    def __init__(self) -> None:
        self.count = 0
        self.actions: list[float] = []
        self.log: list[str] = []
        self.torn_down = threading.Event()

    def observe(self) -> int:
        self.count += 1
        return self.count

    def affect(self, action: float) -> None:
        self.actions.append(action)

    def setup(self) -> None:
        self.log.append("setup")

    def teardown(self) -> None:
        self.log.append("teardown")
        self.torn_down.set()

    def save_state(self, path: Path) -> None:
        save_pickle(self.count, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.count = load_pickle(path.with_suffix(".pkl"))


class Doubler(Agent[int, float]):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.stepped = threading.Event()
        self.fail_at: int | None = None
        self.switch_intervals: set[float] = set()

    def on_inference_models_attached(self) -> None:
        self.model = self.get_inference_model("factor")

    def on_data_collectors_attached(self) -> None:
        self.collector: DataCollector[int] = self.get_data_collector("numbers")

    def step(self, observation: int) -> float:
        self.steps += 1
        if observation == self.fail_at:
            raise RuntimeError(f"agent failed on observation {observation}")
        self.switch_intervals.add(sys.getswitchinterval())
        self.collector.collect(observation)
        self.stepped.set()
        threading.Event().wait(0.001)  # a step's work; no test depends on its length
        return self.model(observation)


class CountingTrainer(Trainer):
    def __init__(self) -> None:
        super().__init__("numbers", min_buffer_size=1, min_new_data_count=1)
        self.runs = 0
        self.fail: BaseException | None = None
        self.block: threading.Event | None = None
        self.training = threading.Event()

    def on_training_models_attached(self) -> None:
        self.model: FactorModel = self.get_training_model("factor")  # type: ignore[assignment]

    def on_data_users_attached(self) -> None:
        self.numbers = self.get_data_user("numbers")

    def train(self) -> None:
        if self.fail is not None:
            raise self.fail
        self.training.set()
        if self.block is not None:
            self.block.wait()
        self.runs += 1
        self.model.items_seen = len(self.numbers)


class System:
    def __init__(self) -> None:
        self.env = Counter()
        self.agent = Doubler()
        self.interaction = Interaction(self.agent, self.env)
        self.model = FactorModel()
        self.buffer = SequentialBuffer[int](1000)
        self.trainer = CountingTrainer()

    def launch(self, **config: Any) -> None:
        config.setdefault("web_api_address", None)
        launch(
            self.interaction,
            {"factor": self.model},
            {"numbers": self.buffer},
            {"counting": self.trainer},
            LaunchConfig(**config),
        )


def main() -> None:
    # A parent started in the background may have left SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    states_dir, mode = sys.argv[1], sys.argv[2]
    system = System()
    if mode == "slow-trainer":
        system.trainer.block = threading.Event()  # never set: train() blocks

    def announce() -> None:
        system.agent.stepped.wait()
        system.trainer.training.wait()
        print("running", flush=True)
        system.env.torn_down.wait()
        print("stopping", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    system.launch(states_dir=states_dir, shutdown_timeout=60.0)


if __name__ == "__main__":
    main()
