"""A trainer's ``global_step``: counted by ``run``, saved with the trainer."""

from pathlib import Path

import pytest

from pamiq_core.trainer import Trainer

from .components import LossTrainer


class Failing(Trainer):
    def train(self) -> None:
        raise RuntimeError("diverged")


class Untrainable(LossTrainer):
    def is_trainable(self) -> bool:
        return False


def test_global_step_counts_the_runs_that_trained() -> None:
    trainer = LossTrainer()
    assert trainer.global_step == 0
    assert trainer.run()
    assert trainer.run()
    assert trainer.global_step == 2
    idle = Untrainable()
    assert not idle.run()
    assert idle.global_step == 0


def test_a_run_that_raises_does_not_count() -> None:
    trainer = Failing()
    with pytest.raises(RuntimeError, match="diverged"):
        trainer.run()
    assert trainer.global_step == 0


def test_global_step_is_saved_and_restored(tmp_path: Path) -> None:
    trainer = LossTrainer()
    for _ in range(3):
        trainer.run()
    trainer.save_state(tmp_path / "trainer")
    assert (tmp_path / "trainer" / "global_step").read_text("utf-8") == "3"
    restored = LossTrainer()
    restored.load_state(tmp_path / "trainer")
    assert restored.global_step == 3
    restored.run()
    assert restored.global_step == 4


def test_a_snapshot_of_pamiq_core_0_6_loads_as_step_zero(tmp_path: Path) -> None:
    saved = tmp_path / "trainer"
    saved.mkdir()
    (saved / "previous_training_time").write_text("-inf", encoding="utf-8")
    trainer = LossTrainer()
    trainer.global_step = 9
    trainer.load_state(saved)
    assert trainer.global_step == 0
