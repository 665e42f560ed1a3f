"""A researcher moving over from 0.6 resumes a state that 0.6 saved."""

import logging
from collections import deque
from pathlib import Path
from typing import Any

import pytest

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
from pamiq_core import time as pamiq_time
from pamiq_core.data.impls import (
    DictSequentialBuffer,
    RandomReplacementBuffer,
    SequentialBuffer,
)
from pamiq_core.state_persistence import (
    IncompleteStateError,
    find_latest_state,
    load_pickle,
    save_pickle,
)

from .legacy_06 import write_06_snapshot


class Threshold(InferenceModel):
    def __init__(self, value: float) -> None:
        self.value = value

    def infer(self, x: float) -> bool:
        return x > self.value


class ThresholdModel(TrainingModel[Threshold]):
    def __init__(self) -> None:
        super().__init__()
        self.value = 0.0

    def _create_inference_model(self) -> Threshold:
        return Threshold(self.value)

    def forward(self, x: float) -> bool:
        return x > self.value

    def sync_impl(self, inference_model: Threshold) -> None:
        inference_model.value = self.value

    def save_state(self, path: Path) -> None:
        save_pickle(self.value, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.value = load_pickle(path.with_suffix(".pkl"))


class Child(Agent[float, float]):
    def __init__(self) -> None:
        super().__init__()
        self.memory: list[float] = []

    def step(self, observation: float) -> float:
        return observation

    def save_state(self, path: Path) -> None:
        save_pickle(self.memory, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.memory = load_pickle(path.with_suffix(".pkl"))


class Parent(Agent[float, float]):
    def __init__(self) -> None:
        self.child = Child()
        super().__init__({"child": self.child})

    def step(self, observation: float) -> float:
        return self.child.step(observation)


class Source(Environment[float, float]):
    def __init__(self) -> None:
        self.position = 0.0

    def observe(self) -> float:
        return self.position

    def affect(self, action: float) -> None:
        pass

    def save_state(self, path: Path) -> None:
        save_pickle(self.position, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        self.position = load_pickle(path.with_suffix(".pkl"))


class Idle(Trainer):
    def is_trainable(self) -> bool:
        return False  # never trains: the loaded state stays as loaded

    def train(self) -> None:
        raise AssertionError("never trains")


class System:
    def __init__(self) -> None:
        self.agent, self.env = Parent(), Source()
        self.model = ThresholdModel()
        self.numbers = SequentialBuffer[int](10)
        self.pairs = DictSequentialBuffer[int](["a", "b"], 10)
        self.picks = RandomReplacementBuffer[str](10)
        self.trainer = Idle()

    def launch(self, **config: Any) -> None:
        launch(
            Interaction(self.agent, self.env),
            {"threshold": self.model},
            {"numbers": self.numbers, "pairs": self.pairs, "picks": self.picks},
            {"idle": self.trainer},
            LaunchConfig(web_api_address=None, max_uptime=0.05, **config),
        )


SAVED_CLOCK = 1_700_000_000.0


def write_folder(folder: Path) -> Path:
    return write_06_snapshot(
        folder,
        models={"threshold": 3.5},
        buffers={
            "numbers": (deque([1, 2, 3], maxlen=10), [10.0, 11.0, 12.0]),
            "pairs": (deque([{"a": 1, "b": 2}], maxlen=10), [13.0]),
            "picks": (["x", "y"], [14.0, 15.0]),
        },
        trainers={"idle": 42.5},
        interaction={
            "agent/child.pkl": [0.25, 0.5],
            "environment.pkl": 7.0,
        },
        time_state={
            "scaled_anchor_time": SAVED_CLOCK,
            "scaled_anchor_monotonic": 1000.0,
            "scaled_anchor_perf_counter": 2000.0,
        },
    )


@pytest.fixture(autouse=True)
def restore_clock() -> Any:
    state = pamiq_time.state_dict()
    yield
    pamiq_time.load_state_dict(state)


def test_a_06_snapshot_given_explicitly_loads_every_part_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_folder(tmp_path / "states" / "2025-01-31_12-00-00,000000.state")
    system = System()
    with caplog.at_level(logging.WARNING):
        system.launch(states_dir=tmp_path / "states", saved_state_path=folder)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"'{folder}' has no manifest but has PAMIQ-Core 0.6's layout: loading it "
        "without verifying its files."
    ]
    assert system.model.value == 3.5
    assert system.model.inference_model.value == 3.5  # synced after the load
    assert system.numbers.get_data() == [1, 2, 3]
    assert system.pairs.get_data() == {"a": [1], "b": [2]}
    assert system.picks.get_data() == ["x", "y"]
    assert system.trainer._previous_training_time == 42.5
    assert system.agent.child.memory == [0.25, 0.5]
    assert system.env.position == 7.0
    assert SAVED_CLOCK <= pamiq_time.time() < SAVED_CLOCK + 60


def test_latest_never_takes_an_unverified_06_snapshot(tmp_path: Path) -> None:
    write_folder(tmp_path / "2025-01-31_12-00-00,000000.state")
    assert find_latest_state(tmp_path) is None


def test_a_folder_that_is_neither_says_which_of_the_two_it_is_not(
    tmp_path: Path,
) -> None:
    folder = write_folder(tmp_path / "states" / "broken.state")
    (folder / "time.pkl").unlink()
    with pytest.raises(IncompleteStateError) as info:
        System().launch(states_dir=tmp_path / "states", saved_state_path=folder)
    message = str(info.value)
    assert "not a complete pamiq-core snapshot" in message
    assert "not a PAMIQ-Core 0.6 snapshot either" in message
    assert "['time']" in message
    assert "not written by pamiq-core" not in message
