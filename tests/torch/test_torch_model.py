"""TorchTrainingModel: construction, the inference copy, persistence."""

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pamiq_core import TrainingModel
from pamiq_core.torch import TorchInferenceModel, TorchTrainingModel

META = torch.device("meta")


class Doubler(nn.Module):
    """A linear layer with a batch norm, and a few class attributes to look up."""

    label = "not callable"

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.norm = nn.BatchNorm1d(2)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.linear(x))

    def twice(self, x: Any) -> Any:
        self.calls += 1
        return x * 2

    @property
    def size(self) -> int:
        return 2


def tensors_of(module: nn.Module) -> dict[str, torch.Tensor]:
    return dict(module.state_dict(keep_vars=True))


def assert_same_values(a: nn.Module, b: nn.Module) -> None:
    ta, tb = tensors_of(a), tensors_of(b)
    assert ta.keys() == tb.keys()
    for name in ta:
        assert torch.equal(ta[name], tb[name]), name


def raw(model: TorchInferenceModel[Any]) -> nn.Module:
    return model._raw_model  # pyright: ignore[reportPrivateUsage]


class TestConstruction:
    def test_is_a_training_model_subscriptable_at_run_time(self) -> None:
        model = TorchTrainingModel[nn.Linear](nn.Linear(1, 1))
        assert isinstance(model, TrainingModel)

    def test_rejects_an_inference_only_model_without_inference_model(self) -> None:
        with pytest.raises(ValueError, match="inference_thread_only"):
            TorchTrainingModel(
                nn.Linear(1, 1), has_inference_model=False, inference_thread_only=True
            )

    def test_keeps_the_given_module_as_model(self) -> None:
        module = Doubler()
        assert TorchTrainingModel(module).model is module

    def test_casts_every_parameter_and_buffer_to_dtype(self) -> None:
        model = TorchTrainingModel(Doubler(), dtype=torch.float64)
        dtypes = {t.dtype for t in tensors_of(model.model).values()}
        assert dtypes == {torch.float64}  # the integer batch counter too, as in 0.6

    def test_leaves_the_module_where_it_is_without_device(self) -> None:
        model = TorchTrainingModel(Doubler().to(META))
        assert {t.device for t in tensors_of(model.model).values()} == {META}

    def test_moves_the_module_to_device(self) -> None:
        model = TorchTrainingModel(Doubler(), device="meta")
        assert {t.device for t in tensors_of(model.model).values()} == {META}
        assert {t.device for t in tensors_of(raw(model.inference_model)).values()} == {
            META
        }

    def test_forward_and_call_run_the_training_module(self) -> None:
        module = Doubler()
        model = TorchTrainingModel(module)
        x = torch.ones(3, 2)
        assert torch.equal(model.forward(x), module(x))
        assert torch.equal(model(x), module(x))


class TestMethodNameInferenceProcedure:
    def test_runs_the_named_method_on_the_inference_module(self) -> None:
        model = TorchTrainingModel(Doubler(), inference_procedure="twice")
        assert model.inference_model(3) == 6
        assert raw(model.inference_model).calls == 1
        assert model.model.calls == 0

    def test_does_not_move_tensors_to_the_device(self) -> None:
        model = TorchTrainingModel(
            Doubler(), device="meta", inference_procedure="twice"
        )
        assert model.inference_model(torch.ones(1)).device == torch.device("cpu")

    def test_forward_by_name_bypasses_module_hooks(self) -> None:
        module = Doubler()
        hooked: list[bool] = []
        module.register_forward_hook(lambda *_: hooked.append(True))
        model = TorchTrainingModel(module, inference_procedure="forward")
        model.inference_model(torch.ones(3, 2))
        assert hooked == []

    @pytest.mark.parametrize("name", ["predict", "linear", "calls"])
    def test_unknown_to_the_class_is_an_attribute_error(self, name: str) -> None:
        with pytest.raises(
            AttributeError,
            match=f"The model class Doubler does not have a method named '{name}'",
        ):
            TorchTrainingModel(Doubler(), inference_procedure=name)

    @pytest.mark.parametrize("name", ["label", "size"])
    def test_not_callable_is_a_value_error(self, name: str) -> None:
        with pytest.raises(
            ValueError,
            match=f"The specified inference_procedure '{name}' is not a callable "
            "method on Doubler",
        ):
            TorchTrainingModel(Doubler(), inference_procedure=name)


class TestInferenceModelCreation:
    def test_is_lazy_and_cached(self) -> None:
        model = TorchTrainingModel(Doubler())
        assert model._inference_model is None  # pyright: ignore[reportPrivateUsage]
        assert model.inference_model is model.inference_model

    def test_copies_the_module_with_equal_values(self) -> None:
        module = Doubler()
        model = TorchTrainingModel(module)
        with torch.no_grad():
            module.linear.weight.fill_(0.5)  # made before the copy: included
        copy = raw(model.inference_model)
        assert copy is not module
        assert_same_values(copy, module)
        for name, tensor in tensors_of(copy).items():
            assert tensor is not tensors_of(module)[name]

    def test_copy_is_in_eval_mode_without_gradients(self) -> None:
        module = Doubler()
        module(torch.ones(3, 2)).sum().backward()
        model = TorchTrainingModel(module)
        copy = raw(model.inference_model)
        assert not any(m.training for m in copy.modules())
        for parameter in copy.parameters():
            assert not parameter.requires_grad
            assert parameter.grad is None
        assert module.training  # the training module is left alone
        assert module.linear.weight.grad is not None

    def test_uses_the_given_procedure(self) -> None:
        def procedure(module: nn.Module, x: int) -> int:
            return x + 1

        model = TorchTrainingModel(Doubler(), inference_procedure=procedure)
        assert model.inference_model(1) == 2

    def test_inference_thread_only_shares_the_module_in_eval_mode(self) -> None:
        module = Doubler()
        model = TorchTrainingModel(module, inference_thread_only=True)
        assert raw(model.inference_model) is module
        assert not module.training
        model.sync()  # nothing to do
        assert raw(model.inference_model) is module
        assert model.inference_model._back is None  # pyright: ignore[reportPrivateUsage]

    def test_none_without_inference_model(self) -> None:
        model = TorchTrainingModel(Doubler(), has_inference_model=False)
        with pytest.raises(RuntimeError):
            _ = model.inference_model


class TestPretrainedParameters:
    @pytest.fixture
    def pretrained(self, tmp_path: Path) -> tuple[Path, Doubler]:
        source = Doubler()
        with torch.no_grad():
            for tensor in source.parameters():
                tensor.uniform_()
        path = tmp_path / "pretrained.pt"
        torch.save(source.state_dict(), path)
        return path, source

    def test_are_loaded_before_the_inference_copy_is_made(
        self, pretrained: tuple[Path, Doubler]
    ) -> None:
        path, source = pretrained
        model = TorchTrainingModel(Doubler(), pretrained_parameter_file=path)
        assert_same_values(model.model, source)
        assert_same_values(raw(model.inference_model), source)

    def test_are_mapped_to_the_device(
        self, pretrained: tuple[Path, Doubler], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path, _ = pretrained
        calls = spy_on_torch_load(monkeypatch)
        TorchTrainingModel(Doubler(), device="cpu", pretrained_parameter_file=str(path))
        assert calls == [(str(path), "cpu")]

    def test_must_match_the_module(self, tmp_path: Path) -> None:
        path = tmp_path / "other.pt"
        torch.save(nn.Linear(5, 5).state_dict(), path)
        with pytest.raises(RuntimeError):
            TorchTrainingModel(Doubler(), pretrained_parameter_file=path)


def spy_on_torch_load(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    load = torch.load

    def spy(f: Any, *args: Any, **kwds: Any) -> Any:
        calls.append((str(f), kwds.get("map_location")))
        return load(f, *args, **kwds)

    monkeypatch.setattr(torch, "load", spy)
    return calls


def record_compile_calls(monkeypatch: pytest.MonkeyPatch) -> list[nn.Module]:
    compiled: list[nn.Module] = []

    def compile(self: nn.Module) -> None:
        compiled.append(self)

    monkeypatch.setattr(nn.Module, "compile", compile)
    return compiled


class TestCompile:
    @pytest.mark.usefixtures("eager_compile_backend")
    def test_compiles_both_sides_in_place(self) -> None:
        module = Doubler()
        expected = module.eval()(torch.ones(3, 2))
        module.train()
        model = TorchTrainingModel(module, compile=True)
        assert model.model is module
        assert model._inference_model is not None  # pyright: ignore[reportPrivateUsage]  # eager
        copy = raw(model.inference_model)
        assert module._compiled_call_impl is not None
        assert copy._compiled_call_impl is not None
        assert torch.allclose(model.inference_model(torch.ones(3, 2)), expected)
        model.sync()  # the back module, now in front, is compiled too
        assert raw(model.inference_model) is not copy
        assert raw(model.inference_model)._compiled_call_impl is not None
        assert torch.allclose(model.inference_model(torch.ones(3, 2)), expected)

    def test_compiles_a_shared_module_once(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compiled = record_compile_calls(monkeypatch)
        module = Doubler()
        TorchTrainingModel(module, inference_thread_only=True, compile=True)
        assert compiled == [module]

    def test_compiles_a_training_only_model(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compiled = record_compile_calls(monkeypatch)
        module = Doubler()
        TorchTrainingModel(module, has_inference_model=False, compile=True)
        assert compiled == [module]


class TestPersistence:
    def test_saves_the_training_modules_state_dict_to_path_dot_pt(
        self, tmp_path: Path
    ) -> None:
        model = TorchTrainingModel(Doubler())
        model.save_state(tmp_path / "encoder")
        assert [p.name for p in tmp_path.iterdir()] == ["encoder.pt"]
        saved = torch.load(tmp_path / "encoder.pt")
        assert saved.keys() == model.model.state_dict().keys()
        for name, tensor in model.model.state_dict().items():
            assert torch.equal(saved[name], tensor)

    def test_load_restores_the_values_into_the_same_tensors(
        self, tmp_path: Path
    ) -> None:
        source = TorchTrainingModel(Doubler())
        source.save_state(tmp_path / "m")
        target = TorchTrainingModel(Doubler())
        before = tensors_of(target.model)
        target.load_state(tmp_path / "m")
        assert_same_values(target.model, source.model)
        after = tensors_of(target.model)
        assert all(after[name] is before[name] for name in before)

    def test_load_maps_onto_the_models_device(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        model = TorchTrainingModel(Doubler())
        model.save_state(tmp_path / "m")
        calls = spy_on_torch_load(monkeypatch)
        model.load_state(tmp_path / "m")
        assert calls == [(f"{tmp_path / 'm'}.pt", torch.device("cpu"))]

    def test_load_does_not_sync(self, tmp_path: Path) -> None:
        source = TorchTrainingModel(Doubler())
        with torch.no_grad():
            source.model.linear.weight.fill_(7.0)
        source.save_state(tmp_path / "m")
        target = TorchTrainingModel(Doubler())
        inference_before = {
            k: t.clone() for k, t in tensors_of(raw(target.inference_model)).items()
        }
        target.load_state(tmp_path / "m")
        for name, tensor in tensors_of(raw(target.inference_model)).items():
            assert torch.equal(tensor, inference_before[name])
        target.sync()
        assert_same_values(raw(target.inference_model), source.model)
