from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from pamiq_core.data import DataUsersDict
from pamiq_core.model import TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.trainer import Trainer, TrainersDict, container


class Logged(Trainer):
    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name = name
        self.log = log

    def train(self) -> None:
        pass

    def attach_training_models(self, training_models: TrainingModelsDict) -> None:
        self.log.append(f"{self.name} models {id(training_models)}")

    def attach_data_users(self, data_users: DataUsersDict) -> None:
        self.log.append(f"{self.name} users {id(data_users)}")

    def save_state(self, path: Path) -> None:
        self.log.append(f"{self.name} save {path.relative_to(path.parent.parent)}")

    def load_state(self, path: Path) -> None:
        self.log.append(f"{self.name} load {path.relative_to(path.parent.parent)}")

    def on_paused(self, *args: Any) -> None:
        assert args == ()
        self.log.append(f"{self.name} paused")

    def on_resumed(self, *args: Any) -> None:
        assert args == ()
        self.log.append(f"{self.name} resumed")


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def trainers(log: list[str]) -> TrainersDict:
    return TrainersDict([("b", Logged("b", log)), ("a", Logged("a", log))])


def test_exports_and_bases() -> None:
    assert container.TrainersDict is TrainersDict
    assert issubclass(TrainersDict, OrderedDict)
    assert issubclass(TrainersDict, PersistentStateMixin)
    assert issubclass(TrainersDict, ThreadEventMixin)


def test_forwards_the_same_containers_in_insertion_order(
    trainers: TrainersDict, log: list[str]
) -> None:
    models, users = TrainingModelsDict(), DataUsersDict()
    trainers.attach_training_models(models)
    trainers.attach_data_users(users)
    assert log == [
        f"b models {id(models)}",
        f"a models {id(models)}",
        f"b users {id(users)}",
        f"a users {id(users)}",
    ]


def test_state_goes_to_one_directory_per_trainer(
    trainers: TrainersDict, log: list[str], tmp_path: Path
) -> None:
    trainers.save_state(tmp_path / "trainers")
    assert (tmp_path / "trainers").is_dir()
    trainers.load_state(tmp_path / "trainers")
    assert log == [
        "b save trainers/b",
        "a save trainers/a",
        "b load trainers/b",
        "a load trainers/a",
    ]


def test_save_refuses_an_existing_directory(
    trainers: TrainersDict, tmp_path: Path
) -> None:
    (tmp_path / "trainers").mkdir()
    with pytest.raises(FileExistsError):
        trainers.save_state(tmp_path / "trainers")


def test_pause_and_resume_reach_every_trainer(
    trainers: TrainersDict, log: list[str]
) -> None:
    trainers.on_paused()
    trainers.on_resumed()
    assert log == ["b paused", "a paused", "b resumed", "a resumed"]


def test_real_trainers_save_their_files(tmp_path: Path) -> None:
    class Plain(Trainer):
        def train(self) -> None:
            pass

    TrainersDict(x=Plain()).save_state(tmp_path / "trainers")
    assert (
        tmp_path / "trainers" / "x" / "previous_training_time"
    ).read_text() == "-inf"
