import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pamiq_core import InferenceModel, TrainingModel
from pamiq_core.model import interface
from pamiq_core.state_persistence import PersistentStateMixin


class Scale(InferenceModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def infer(self, *args: Any, **kwds: Any) -> Any:
        self.calls.append((args, kwds))
        return self.factor * args[0]


class ScaleTrainer(TrainingModel[Scale]):
    def __init__(self, **flags: bool) -> None:
        super().__init__(**flags)
        self.factor = 2.0
        self.created = 0
        self.synced: list[Scale] = []
        self.forward_calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def _create_inference_model(self) -> Scale:
        self.created += 1
        return Scale(self.factor)

    def forward(self, *args: Any, **kwds: Any) -> Any:
        self.forward_calls.append((args, kwds))
        return self.factor * args[0]

    def sync_impl(self, inference_model: Scale) -> None:
        self.synced.append(inference_model)
        inference_model.factor = self.factor


class TestInferenceModel:
    def test_infer_is_the_only_abstract_method(self) -> None:
        assert InferenceModel.__abstractmethods__ == frozenset({"infer"})
        with pytest.raises(TypeError):
            InferenceModel()  # type: ignore[abstract]

    def test_calling_the_model_calls_infer_with_the_same_arguments(self) -> None:
        model = Scale(3.0)
        assert model(2.0, mode="fast") == 6.0
        assert model.calls == [((2.0,), {"mode": "fast"})]

    def test_is_not_persistent(self) -> None:
        assert not issubclass(InferenceModel, PersistentStateMixin)


class TestTrainingModelAbstraction:
    def test_abstract_methods(self) -> None:
        assert TrainingModel.__abstractmethods__ == frozenset(
            {"_create_inference_model", "forward", "sync_impl"}
        )

    def test_calling_the_model_calls_forward_with_the_same_arguments(self) -> None:
        model = ScaleTrainer()
        assert model(4.0, note="x") == 8.0
        assert model.forward_calls == [((4.0,), {"note": "x"})]

    def test_is_persistent_with_no_op_default_state(self, tmp_path: Path) -> None:
        model = ScaleTrainer()
        assert isinstance(model, PersistentStateMixin)
        model.save_state(tmp_path / "model")
        model.load_state(tmp_path / "model")
        assert list(tmp_path.iterdir()) == []

    def test_is_subscriptable_at_run_time(self) -> None:
        alias = TrainingModel[Scale]
        assert alias.__origin__ is TrainingModel  # type: ignore[attr-defined]

        class Subclass(TrainingModel[Scale]):
            def _create_inference_model(self) -> Scale:
                return Scale(1.0)

            def forward(self, *args: Any, **kwds: Any) -> Any:
                return None

            def sync_impl(self, inference_model: Scale) -> None:
                pass

        assert isinstance(Subclass(), TrainingModel)

    def test_is_exported_from_the_interface_module(self) -> None:
        assert interface.TrainingModel is TrainingModel
        assert interface.InferenceModel is InferenceModel


class TestTrainingModelFlags:
    def test_defaults(self) -> None:
        model = ScaleTrainer()
        assert model.has_inference_model is True
        assert model.inference_thread_only is False

    @pytest.mark.parametrize(
        ("has_inference_model", "inference_thread_only"),
        [(True, False), (True, True), (False, False)],
    )
    def test_valid_combinations_are_stored(
        self, has_inference_model: bool, inference_thread_only: bool
    ) -> None:
        model = ScaleTrainer(
            has_inference_model=has_inference_model,
            inference_thread_only=inference_thread_only,
        )
        assert model.has_inference_model is has_inference_model
        assert model.inference_thread_only is inference_thread_only

    def test_no_inference_model_but_inference_thread_only_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="has_inference_model=False") as info:
            ScaleTrainer(has_inference_model=False, inference_thread_only=True)
        message = str(info.value)
        assert "inference_thread_only=True" in message
        assert "neither" in message  # says why: no thread could use such a model

    @pytest.mark.parametrize(
        ("has_inference_model", "inference_thread_only", "need_sync"),
        [(True, False, True), (True, True, False), (False, False, False)],
    )
    def test_need_sync(
        self, has_inference_model: bool, inference_thread_only: bool, need_sync: bool
    ) -> None:
        model = ScaleTrainer(
            has_inference_model=has_inference_model,
            inference_thread_only=inference_thread_only,
        )
        assert model._need_sync is need_sync


class TestInferenceModelProperty:
    def test_is_created_on_first_access_not_in_the_constructor(self) -> None:
        model = ScaleTrainer()
        assert model.created == 0
        model.factor = 5.0  # changes before the first access are included
        inference_model = model.inference_model
        assert model.created == 1
        assert inference_model.factor == 5.0

    def test_returns_the_same_object_afterwards(self) -> None:
        model = ScaleTrainer()
        first = model.inference_model
        assert model.inference_model is first
        assert model.created == 1

    def test_is_created_once_when_threads_race_for_it(self) -> None:
        class SlowToCreate(ScaleTrainer):
            def _create_inference_model(self) -> Scale:
                # Slow creation widens the window in which a racing thread would
                # create a second model; the test passes whatever its length.
                time.sleep(0.01)
                return super()._create_inference_model()

        for _ in range(20):
            model = SlowToCreate()
            barrier = threading.Barrier(8)
            seen: list[Scale] = []

            def grab(
                model: SlowToCreate = model,
                barrier: threading.Barrier = barrier,
                seen: list[Scale] = seen,
            ) -> None:
                barrier.wait()
                seen.append(model.inference_model)

            threads = [threading.Thread(target=grab) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert model.created == 1
            assert all(found is seen[0] for found in seen)

    def test_without_inference_model_raises_runtime_error(self) -> None:
        model = ScaleTrainer(has_inference_model=False)
        with pytest.raises(RuntimeError, match="without an inference model"):
            _ = model.inference_model
        assert model.created == 0


class TestSync:
    def test_passes_the_inference_model_to_sync_impl(self) -> None:
        model = ScaleTrainer()
        inference_model = model.inference_model
        model.factor = 7.0
        model.sync()
        assert model.synced == [inference_model]
        assert inference_model(1.0) == 7.0

    def test_creates_the_inference_model_if_needed(self) -> None:
        model = ScaleTrainer()
        model.sync()
        assert model.created == 1
        assert model.synced == [model.inference_model]

    def test_does_nothing_for_inference_thread_only_models(self) -> None:
        model = ScaleTrainer(inference_thread_only=True)
        model.sync()
        assert model.synced == []
        assert model.created == 0

    def test_does_nothing_without_inference_model(self) -> None:
        model = ScaleTrainer(has_inference_model=False)
        model.sync()
        assert model.synced == []
        assert model.created == 0


class TestSyncStats:
    def test_each_sync_is_counted_and_timed(self) -> None:
        model = ScaleTrainer()
        assert model.sync_stats.syncs == 0
        model.sync()
        model.sync()
        assert model.sync_stats.syncs == 2
        assert model.sync_stats.last_duration >= 0.0

    def test_sync_catches_the_inference_version_up(self) -> None:
        model = ScaleTrainer()
        model.sync_stats.training_version += 2
        assert model.sync_stats.inference_version == 0
        model.sync()
        assert model.sync_stats.inference_version == 2

    def test_models_that_need_no_sync_record_nothing(self) -> None:
        model = ScaleTrainer(inference_thread_only=True)
        model.sync()
        assert model.sync_stats.syncs == 0
