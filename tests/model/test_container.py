from collections import UserDict
from pathlib import Path
from typing import Any

import pytest

from pamiq_core import InferenceModel, TrainingModel
from pamiq_core.model import InferenceModelsDict, TrainingModelsDict, container


class Echo(InferenceModel):
    def infer(self, *args: Any, **kwds: Any) -> Any:
        return args


class Recorder(TrainingModel[Echo]):
    """A training model that records what the container does with it."""

    def __init__(
        self,
        log: list[str] | None = None,
        *,
        has_inference_model: bool = True,
        inference_thread_only: bool = False,
    ) -> None:
        super().__init__(has_inference_model, inference_thread_only)
        self.log = log if log is not None else []

    def _create_inference_model(self) -> Echo:
        return Echo()

    def forward(self, *args: Any, **kwds: Any) -> Any:
        return args

    def sync_impl(self, inference_model: Echo) -> None:
        self.log.append("sync")

    def save_state(self, path: Path) -> None:
        self.log.append(f"save {path.name}")
        path.write_text(path.name)

    def load_state(self, path: Path) -> None:
        self.log.append(f"load {path.name}:{path.read_text()}")


def models_dict(**models: Any) -> TrainingModelsDict:
    return TrainingModelsDict(models)


class TestInferenceModelsDict:
    def test_is_a_plain_user_dict(self) -> None:
        models = InferenceModelsDict(a=Echo())
        assert isinstance(models, UserDict)
        assert list(models) == ["a"]

    def test_is_exported_from_the_container_module(self) -> None:
        assert container.InferenceModelsDict is InferenceModelsDict
        assert container.TrainingModelsDict is TrainingModelsDict


class TestPublishingInferenceModels:
    def test_is_a_user_dict_not_a_dict(self) -> None:
        assert isinstance(TrainingModelsDict(), UserDict)
        assert not isinstance(TrainingModelsDict(), dict)

    def test_companion_dict_is_always_the_same_object(self) -> None:
        models = TrainingModelsDict()
        assert isinstance(models.inference_models_dict, InferenceModelsDict)
        assert models.inference_models_dict is models.inference_models_dict

    def test_initial_items_publish_their_inference_models(self) -> None:
        a, b = Recorder(), Recorder()
        models = TrainingModelsDict({"a": a}, b=b)
        assert models.inference_models_dict == {
            "a": a.inference_model,
            "b": b.inference_model,
        }

    def test_setting_a_model_publishes_its_inference_model(self) -> None:
        models = TrainingModelsDict()
        model = Recorder()
        models["policy"] = model
        assert models.inference_models_dict["policy"] is model.inference_model

    def test_training_only_models_are_not_published(self) -> None:
        models = models_dict(critic=Recorder(has_inference_model=False))
        assert "critic" in models
        assert "critic" not in models.inference_models_dict

    def test_inference_thread_only_models_are_published(self) -> None:
        frozen = Recorder(inference_thread_only=True)
        models = models_dict(encoder=frozen)
        assert models.inference_models_dict["encoder"] is frozen.inference_model

    def test_deleting_a_model_removes_its_inference_model(self) -> None:
        models = models_dict(a=Recorder(), b=Recorder())
        del models["a"]
        assert "a" not in models
        assert list(models.inference_models_dict) == ["b"]

    def test_replacing_with_a_training_only_model_removes_the_stale_entry(self) -> None:
        models = models_dict(a=Recorder())
        models["a"] = Recorder(has_inference_model=False)
        assert "a" not in models.inference_models_dict

    def test_replacing_a_model_publishes_the_new_inference_model(self) -> None:
        models = models_dict(a=Recorder())
        replacement = Recorder()
        models["a"] = replacement
        assert models.inference_models_dict["a"] is replacement.inference_model


class TestHidingInferenceThreadOnlyModels:
    @pytest.fixture
    def models(self) -> TrainingModelsDict:
        return models_dict(
            policy=Recorder(),
            encoder=Recorder(inference_thread_only=True),
            critic=Recorder(has_inference_model=False),
        )

    def test_lookup_refuses_with_a_key_error_that_says_why(
        self, models: TrainingModelsDict
    ) -> None:
        with pytest.raises(
            KeyError, match=r"model 'encoder' is inference thread only\."
        ):
            models["encoder"]

    def test_lookup_of_other_models_works(self, models: TrainingModelsDict) -> None:
        assert models["policy"].inference_thread_only is False
        assert models["critic"].has_inference_model is False

    def test_unknown_names_raise_the_usual_key_error(
        self, models: TrainingModelsDict
    ) -> None:
        with pytest.raises(KeyError):
            models["missing"]

    def test_hidden_models_still_count(self, models: TrainingModelsDict) -> None:
        assert len(models) == 3
        assert "encoder" in models
        assert list(models) == ["policy", "encoder", "critic"]
        assert list(models.keys()) == ["policy", "encoder", "critic"]

    def test_views_and_iteration_never_raise(self, models: TrainingModelsDict) -> None:
        assert len(list(models.values())) == 3
        assert [name for name, _ in models.items()] == ["policy", "encoder", "critic"]
        copied = models.copy()
        assert isinstance(copied, TrainingModelsDict)
        assert list(copied) == ["policy", "encoder", "critic"]
        assert copied.inference_models_dict == models.inference_models_dict
        assert copied.inference_models_dict is not models.inference_models_dict

    def test_get_treats_hidden_models_as_unavailable(
        self, models: TrainingModelsDict
    ) -> None:
        assert models.get("encoder") is None
        assert models.get("encoder", "fallback") == "fallback"
        assert models.get("policy") is models.data["policy"]


class TestState:
    def test_save_writes_every_model_into_its_own_path(self, tmp_path: Path) -> None:
        log: list[str] = []
        models = models_dict(
            policy=Recorder(log),
            encoder=Recorder(log, inference_thread_only=True),
            critic=Recorder(log, has_inference_model=False),
        )
        models.save_state(tmp_path / "models")
        assert log == ["save policy", "save encoder", "save critic"]
        assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
            "critic",
            "encoder",
            "policy",
        ]

    def test_save_refuses_an_existing_path(self, tmp_path: Path) -> None:
        (tmp_path / "models").mkdir()
        with pytest.raises(FileExistsError):
            models_dict(a=Recorder()).save_state(tmp_path / "models")

    def test_load_reads_each_model_then_syncs_it(self, tmp_path: Path) -> None:
        models = models_dict(
            policy=Recorder(), encoder=Recorder(inference_thread_only=True)
        )
        models.save_state(tmp_path / "models")
        log: list[str] = []
        restored = models_dict(
            policy=Recorder(log), encoder=Recorder(log, inference_thread_only=True)
        )
        restored.load_state(tmp_path / "models")
        # sync() runs after every load; it is a no-op for the inference-thread-only
        # encoder, so only the policy's sync_impl runs.
        assert log == ["load policy:policy", "sync", "load encoder:encoder"]
