"""A small contextual bandit, correct in every part, for the mistake tests to break.

Each test subclasses or swaps one part to make one mistake a newcomer makes, runs
the system the way the user would (``launch`` where the user meets the error there),
and checks that the error names the cause.
"""

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pamiq_core import (
    Agent,
    DataCollector,
    Environment,
    InferenceModel,
    Interaction,
    LaunchConfig,
    Trainer,
    TrainingModel,
    launch,
)
from pamiq_core.data import DataUser
from pamiq_core.data.impls import DictSequentialBuffer
from pamiq_core.interaction import Actuator, Sensor

ARMS = 3


class Values(InferenceModel):
    """The agent's copy of the estimated value of each arm."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def infer(self) -> list[float]:
        return self.values


class ValueTable(TrainingModel[Values]):
    """The estimated value of each arm, trained from rewards."""

    def __init__(self, **flags: bool) -> None:
        super().__init__(**flags)
        self.values = [0.0] * ARMS

    def _create_inference_model(self) -> Values:
        return Values(list(self.values))

    def forward(self) -> list[float]:
        return self.values

    def sync_impl(self, inference_model: Values) -> None:
        inference_model.values = list(self.values)


class Slots(Environment[int, int]):
    """Three arms; arm 2 pays best."""

    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.pulls = 0

    def observe(self) -> int:
        return self.pulls

    def affect(self, action: int) -> None:
        self.pulls += 1


class BanditAgent(Agent[int, int]):
    """Picks the best arm it knows of and collects what it did."""

    model_name = "values"
    collector_name = "pulls"

    def on_inference_models_attached(self) -> None:
        self.values = self.get_inference_model(self.model_name)

    def on_data_collectors_attached(self) -> None:
        self.pulls: DataCollector[Mapping[str, float]] = self.get_data_collector(
            self.collector_name
        )

    def step(self, observation: int) -> int:
        values = self.values()
        arm = max(range(ARMS), key=values.__getitem__)
        self.pulls.collect(self.transition(arm))
        return arm

    def transition(self, arm: int) -> Mapping[str, float]:
        return {"arm": arm, "reward": 1.0 if arm == 2 else 0.5}


class RewardTrainer(Trainer):
    """Moves the value of each pulled arm towards its rewards."""

    def __init__(self) -> None:
        super().__init__("pulls", min_buffer_size=1)
        self.runs = 0

    def on_training_models_attached(self) -> None:
        self.table = self.get_training_model("values")

    def on_data_users_attached(self) -> None:
        self.pulls: DataUser[dict[str, list[float]]] = self.get_data_user("pulls")

    def train(self) -> None:
        self.runs += 1
        data = self.pulls.get_data()
        table: Any = self.table
        for arm, reward in zip(data["arm"], data["reward"], strict=True):
            table.values[int(arm)] += 0.1 * (reward - table.values[int(arm)])


def pulls_buffer() -> DictSequentialBuffer[float]:
    return DictSequentialBuffer[float](["arm", "reward"], max_size=100)


def run(
    tmp_path: Path,
    *,
    agent: Agent[Any, Any] | None = None,
    environment: Environment[Any, Any] | None = None,
    interaction: Any = None,
    models: Any = None,
    buffers: Any = None,
    trainers: Any = None,
    max_uptime: float = 0.3,
) -> None:
    """Launch the bandit with the given parts swapped in, for ``max_uptime`` seconds."""
    if interaction is None:
        interaction = Interaction(agent or BanditAgent(), environment or Slots())
    launch(
        interaction=interaction,
        models={"values": ValueTable()} if models is None else models,
        buffers={"pulls": pulls_buffer()} if buffers is None else buffers,
        trainers={"reward": RewardTrainer()} if trainers is None else trainers,
        config=LaunchConfig(
            states_dir=tmp_path / "states",
            max_uptime=max_uptime,
            web_api_address=None,
            log_tick_time_statistics_interval=1e9,
        ),
    )


class Dial(Sensor[float]):
    def read(self) -> float:
        return 0.5


class Lamp(Actuator[bool]):
    def __init__(self) -> None:
        self.lit = False

    def operate(self, action: bool) -> None:
        self.lit = action
