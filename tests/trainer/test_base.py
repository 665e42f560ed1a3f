from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

import pamiq_core
from pamiq_core import trainer as trainer_package
from pamiq_core.data import DataUsersDict
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.model import InferenceModel, TrainingModel, TrainingModelsDict
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.trainer import Trainer, base


class Echo(InferenceModel):
    def infer(self, *args: Any, **kwds: Any) -> Any:
        return args


class Counted(TrainingModel[Echo]):
    def __init__(self, *, inference_thread_only: bool = False) -> None:
        super().__init__(inference_thread_only=inference_thread_only)
        self.syncs = 0

    def _create_inference_model(self) -> Echo:
        return Echo()

    def forward(self, *args: Any, **kwds: Any) -> Any:
        return args

    def sync_impl(self, inference_model: Echo) -> None:
        self.syncs += 1


class Recording(Trainer):
    """Records hook calls; fetches model 'a' when models are attached."""

    def __init__(self, *args: Any, **kwds: Any) -> None:
        super().__init__(*args, **kwds)
        self.calls: list[str] = []

    def on_training_models_attached(self) -> None:
        self.calls.append("models attached")
        self.model = self.get_training_model("a")

    def on_data_users_attached(self) -> None:
        self.calls.append("data users attached")

    def setup(self) -> None:
        self.calls.append("setup")

    def train(self) -> None:
        self.calls.append("train")

    def sync_models(self) -> None:
        self.calls.append("sync_models")
        super().sync_models()

    def teardown(self) -> None:
        self.calls.append("teardown")


def attached(trainer: Trainer, buffer_size: int = 100) -> tuple[Counted, DataUsersDict]:
    model = Counted()
    users = DataUsersDict.from_data_buffers(data=SequentialBuffer[int](buffer_size))
    trainer.attach_data_users(data_users=users)
    trainer.attach_training_models(training_models=TrainingModelsDict(a=model))
    return model, users


def test_exports() -> None:
    assert pamiq_core.Trainer is trainer_package.Trainer is base.Trainer is Trainer


def test_abstract_methods_and_bases() -> None:
    assert Trainer.__abstractmethods__ == {"train"}
    assert issubclass(Trainer, PersistentStateMixin)
    assert issubclass(Trainer, ThreadEventMixin)


def test_defaults() -> None:
    trainer = Recording()
    assert trainer.training_condition_data_user is None
    assert trainer.min_buffer_size == 0
    assert trainer.min_new_data_count == 0
    assert trainer._previous_training_time == float("-inf")


class TestAttaching:
    def test_attach_stores_then_calls_the_hook(self) -> None:
        trainer = Recording()
        model, _ = attached(trainer)
        assert trainer.calls == ["data users attached", "models attached"]
        assert trainer.model is model

    def test_get_data_user(self) -> None:
        trainer = Recording()
        _, users = attached(trainer)
        assert trainer.get_data_user("data") is users["data"]
        with pytest.raises(
            KeyError,
            match=r"no data user named 'nope'\. The data user names are: 'data'",
        ):
            trainer.get_data_user("nope")

    def test_get_training_model_unknown_name(self) -> None:
        trainer = Recording()
        attached(trainer)
        with pytest.raises(
            KeyError, match=r"no training model named 'nope'\. The training model names"
        ):
            trainer.get_training_model("nope")

    def test_inference_thread_only_models_are_refused(self) -> None:
        trainer = Recording()
        trainer._training_models = TrainingModelsDict(
            a=Counted(), frozen=Counted(inference_thread_only=True)
        )
        with pytest.raises(KeyError, match="inference thread only"):
            trainer.get_training_model("frozen")
        assert trainer._retrieved_model_names == set()

    def test_using_models_before_attaching_says_where_to_fetch_them(self) -> None:
        with pytest.raises(
            AttributeError,
            match=r"before the training models were attached.*"
            r"on_training_models_attached\(\)",
        ):
            Recording().get_training_model("a")

    def test_using_data_users_before_attaching_says_where_to_fetch_them(self) -> None:
        with pytest.raises(
            AttributeError,
            match=r"before the data users were attached.*on_data_users_attached\(\)",
        ):
            Recording().get_data_user("data")

    def test_a_condition_before_attaching_says_the_data_users_are_missing(
        self,
    ) -> None:
        trainer = Recording(training_condition_data_user="data")
        with pytest.raises(AttributeError, match="before the data users were attached"):
            trainer.is_trainable()


class TestIsTrainable:
    def test_without_a_condition_data_user_always_true_and_time_untouched(
        self,
    ) -> None:
        trainer = Recording(min_buffer_size=10, min_new_data_count=10)
        assert trainer.is_trainable()
        assert trainer._previous_training_time == float("-inf")

    def test_updates_the_data_user_first(self) -> None:
        trainer = Recording("data", min_buffer_size=2)
        _, users = attached(trainer)
        collector = users.data_collectors_dict["data"]
        collector.collect(1)
        assert not trainer.is_trainable()
        collector.collect(2)
        assert trainer.is_trainable()
        assert len(users["data"]) == 2

    def test_needs_enough_new_data_since_the_previous_successful_check(self) -> None:
        trainer = Recording("data", min_new_data_count=2)
        _, users = attached(trainer)
        collector = users.data_collectors_dict["data"]
        with patch("pamiq_core.time.time") as now:
            now.return_value = 10.0
            collector.collect(1)
            collector.collect(2)
            now.return_value = 11.0
            assert trainer.is_trainable()
            assert trainer._previous_training_time == 11.0
            assert not trainer.is_trainable()  # nothing new
            now.return_value = 12.0
            collector.collect(3)
            assert not trainer.is_trainable()
            assert trainer._previous_training_time == 11.0  # failed checks keep it
            collector.collect(4)
            now.return_value = 13.0
            assert trainer.is_trainable()
            assert trainer._previous_training_time == 13.0

    def test_the_count_is_not_queried_when_the_size_test_fails(self) -> None:
        trainer = Recording("data", min_buffer_size=5, min_new_data_count=1)
        _, users = attached(trainer)
        with patch.object(users["data"], "count_data_added_since") as count:
            assert not trainer.is_trainable()
            count.assert_not_called()

    def test_first_check_counts_everything_held(self) -> None:
        trainer = Recording("data", min_new_data_count=3)
        _, users = attached(trainer)
        for i in range(3):
            users.data_collectors_dict["data"].collect(i)
        assert trainer.is_trainable()


class TestRun:
    def test_runs_setup_train_sync_teardown_in_order(self) -> None:
        trainer = Recording()
        attached(trainer)
        trainer.calls.clear()
        assert trainer.run() is True
        assert trainer.calls == ["setup", "train", "sync_models", "teardown"]

    def test_returns_false_and_calls_nothing_when_not_trainable(self) -> None:
        trainer = Recording("data", min_buffer_size=1)
        attached(trainer)
        trainer.calls.clear()
        assert trainer.run() is False
        assert trainer.calls == []

    def test_an_error_skips_the_remaining_steps(self) -> None:
        class Failing(Recording):
            def train(self) -> None:
                super().train()
                raise RuntimeError("boom")

        trainer = Failing()
        attached(trainer)
        trainer.calls.clear()
        with pytest.raises(RuntimeError, match="boom"):
            trainer.run()
        assert trainer.calls == ["setup", "train"]

    def test_counts_an_update_of_each_fetched_model_per_run(self) -> None:
        trainer = Recording()
        model = Counted()
        other = Counted()
        trainer.attach_training_models(TrainingModelsDict(a=model, b=other))
        trainer.run()
        trainer.run()
        assert model.sync_stats.training_version == 2
        assert model.sync_stats.inference_version == 2  # synced after each run
        assert other.sync_stats.training_version == 0

    def test_syncs_only_models_fetched_through_get_training_model(self) -> None:
        trainer = Recording()
        model = Counted()
        other = Counted()
        trainer.attach_training_models(TrainingModelsDict(a=model, b=other))
        trainer.run()
        trainer.run()
        assert model.syncs == 2
        assert other.syncs == 0

    def test_a_model_fetched_once_is_synced_after_every_run(self) -> None:
        class LateFetch(Trainer):
            def train(self) -> None:
                pass

        trainer = LateFetch()
        model = Counted()
        trainer.attach_training_models(TrainingModelsDict(a=model))
        trainer.run()
        assert model.syncs == 0
        trainer.get_training_model("a")
        trainer.run()
        trainer.run()
        assert model.syncs == 2


class TestState:
    def test_layout_is_a_directory_with_two_text_files(self, tmp_path: Path) -> None:
        trainer = Recording()
        trainer.save_state(tmp_path / "trainer")
        file = tmp_path / "trainer" / "previous_training_time"
        assert sorted(p.name for p in (tmp_path / "trainer").iterdir()) == [
            "global_step",  # ours (tracking); 0.6 writes only the other one
            file.name,
        ]
        assert file.read_text(encoding="utf-8") == "-inf"
        assert (tmp_path / "trainer" / "global_step").read_text("utf-8") == "0"

    def test_round_trip(self, tmp_path: Path) -> None:
        trainer = Recording()
        trainer._previous_training_time = 1740654000.123456
        trainer.save_state(tmp_path / "trainer")
        assert (tmp_path / "trainer" / "previous_training_time").read_text() == (
            "1740654000.123456"
        )
        restored = Recording()
        restored.load_state(tmp_path / "trainer")
        assert restored._previous_training_time == 1740654000.123456

    def test_save_refuses_an_existing_directory(self, tmp_path: Path) -> None:
        (tmp_path / "trainer").mkdir()
        with pytest.raises(FileExistsError):
            Recording().save_state(tmp_path / "trainer")

    def test_load_without_the_file(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            Recording().load_state(tmp_path / "missing")
