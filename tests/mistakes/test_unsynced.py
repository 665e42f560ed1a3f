"""A trainer that trains a model it was handed, instead of fetching it, is caught.

Such a model is never synced: the agent keeps the untrained parameters and nothing
fails. The trainer now warns once (:class:`UnsyncedModelWarning`) and lists the
models in ``unsynced_models``, for the metrics to show.
"""

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from pamiq_core import Trainer
from pamiq_core.testing import connect_components
from pamiq_core.trainer.base import UnsyncedModelWarning

from .parts import BanditAgent, RewardTrainer, ValueTable, pulls_buffer, run


class HandedTrainer(RewardTrainer):
    """Keeps the model it was given instead of fetching it."""

    def __init__(self, table: ValueTable) -> None:
        super().__init__()
        self.handed = table

    def on_training_models_attached(self) -> None:
        self.table = self.handed


@pytest.fixture
def no_unsynced_warning() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsyncedModelWarning)
        yield


def test_a_model_handed_to_the_constructor_is_reported_once(tmp_path: Path) -> None:
    table = ValueTable()
    trainer = HandedTrainer(table)
    agent = BanditAgent()
    with pytest.warns(UnsyncedModelWarning) as warned:
        run(
            tmp_path,
            agent=agent,
            models={"values": table},
            trainers={"reward": trainer},
        )
    assert len(warned) == 1
    assert str(warned[0].message) == (
        "HandedTrainer holds models that it never syncs: self.handed is the model "
        "'values' (ValueTable), which HandedTrainer never fetched with "
        "get_training_model('values'), so its training never reaches the agent: "
        "fetch it in on_training_models_attached() instead of keeping the object "
        "you created."
    )
    assert trainer.unsynced_models == ("values",)
    # What the warning is about: trained, yet the agent still has the start values.
    assert trainer.runs > 0
    assert table.values != [0.0, 0.0, 0.0]
    assert agent.values() == [0.0, 0.0, 0.0]


def test_a_model_in_a_list_attribute() -> None:
    class Listing(RewardTrainer):
        def __init__(self, tables: list[ValueTable]) -> None:
            super().__init__()
            self.tables = tables

        def on_training_models_attached(self) -> None:
            self.table = self.tables[0]

    table = ValueTable()
    trainer = Listing([table])
    with pytest.warns(UnsyncedModelWarning, match=r"self\.tables\[0\] is the model"):
        connect_components(
            trainers=trainer,
            models={"values": table},
            buffers={"pulls": pulls_buffer()},
        )
    assert trainer.unsynced_models == ("values",)


def test_a_model_that_is_not_among_the_systems_models() -> None:
    class Private(RewardTrainer):
        def __init__(self) -> None:
            super().__init__()
            self.extra = ValueTable()

    trainer = Private()
    with pytest.warns(
        UnsyncedModelWarning,
        match=r"self\.extra is a ValueTable that "
        r"is not among the system's models, so it is never synced or "
        r"saved: pass it to launch\(models=\{\.\.\.\}\)",
    ):
        connect_components(
            trainers=trainer,
            models={"values": ValueTable()},
            buffers={"pulls": pulls_buffer()},
        )
    assert trainer.unsynced_models == ()


def test_a_model_picked_up_during_training_is_found_after_the_first_run(
    tmp_path: Path,
) -> None:
    table = ValueTable()

    class Late(RewardTrainer):
        def on_training_models_attached(self) -> None:
            pass

        def train(self) -> None:
            self.table = table
            super().train()

    trainer = Late()
    with pytest.warns(UnsyncedModelWarning, match="self.table is the model 'values'"):
        run(tmp_path, models={"values": table}, trainers={"reward": trainer})
    assert trainer.unsynced_models == ("values",)


def test_a_fetched_model_is_not_reported(
    tmp_path: Path, no_unsynced_warning: None
) -> None:
    trainer = RewardTrainer()
    run(tmp_path, trainers={"reward": trainer})
    assert trainer.runs > 0
    assert trainer.unsynced_models == ()


@pytest.mark.parametrize(
    "flags",
    [{"inference_thread_only": True}, {"has_inference_model": False}],
    ids=["inference thread only", "training only"],
)
def test_models_that_need_no_sync_may_be_held(
    flags: dict[str, bool], no_unsynced_warning: None
) -> None:
    frozen = ValueTable(**flags)

    class Holding(RewardTrainer):
        def __init__(self) -> None:
            super().__init__()
            self.frozen = frozen

    trainer = Holding()
    connect_components(
        trainers=trainer,
        models={"values": ValueTable(), "frozen": frozen},
        buffers={"pulls": pulls_buffer()},
    )
    assert trainer.unsynced_models == ()


def test_a_trainer_moved_to_a_new_system_fetches_afresh(tmp_path: Path) -> None:
    """The names fetched in the first system are not synced in the second."""

    class Named(RewardTrainer):
        def __init__(self) -> None:
            super().__init__()
            self.model_name = "values"

        def on_training_models_attached(self) -> None:
            self.table = self.get_training_model(self.model_name)

    trainer = Named()
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    run(tmp_path / "first", trainers={"reward": trainer})
    trainer.model_name = "estimates"
    agent = BanditAgent()
    agent.model_name = "estimates"  # pyright: ignore[reportAttributeAccessIssue]
    run(
        tmp_path / "second",
        agent=agent,
        models={"estimates": ValueTable()},
        trainers={"reward": trainer},
    )
    assert trainer._retrieved_model_names == {"estimates"}


def test_the_trainer_exposes_no_finding_before_attach() -> None:
    class Bare(Trainer):
        def train(self) -> None:
            pass

    assert Bare().unsynced_models == ()
