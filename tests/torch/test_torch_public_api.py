"""The torch part of the 0.6 API: signatures and exports (see tests/test_public_api.py)."""

import inspect
from typing import Any

import pytest
from typing_extensions import TypeAliasType

import pamiq_core.torch as torch_package
from pamiq_core.torch import (
    TorchAgent,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
    default_infer_procedure,
    get_device,
)
from pamiq_core.torch import model as model_module
from pamiq_core.torch import trainer as trainer_module

REQUIRED = inspect.Parameter.empty

SIGNATURES: list[tuple[Any, list[tuple[str, Any]]]] = [
    (TorchTrainingModel, [
        ("model", REQUIRED), ("has_inference_model", True),
        ("inference_thread_only", False), ("device", None), ("dtype", None),
        ("inference_procedure", default_infer_procedure),
        ("pretrained_parameter_file", None), ("compile", False)]),
    (TorchInferenceModel, [("model", REQUIRED), ("inference_procedure", REQUIRED)]),
    (TorchTrainer, [
        ("training_condition_data_user", None), ("min_buffer_size", 0),
        ("min_new_data_count", 0)]),
    (get_device, [("module", REQUIRED), ("default_device", None)]),
    (TorchTrainer.get_torch_training_model, [("self", REQUIRED), ("name", REQUIRED)]),
    (TorchAgent.get_torch_inference_model, [("self", REQUIRED), ("name", REQUIRED)]),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "expected"), SIGNATURES)
def test_signatures_start_with_the_specs_parameters(
    obj: Any, expected: list[tuple[str, Any]]
) -> None:
    target = obj.__init__ if inspect.isclass(obj) else obj
    found = list(inspect.signature(target).parameters.values())
    if inspect.isclass(obj):
        found = found[1:]
    assert [p.name for p in found[: len(expected)]] == [n for n, _ in expected]
    for parameter, (_, default) in zip(found, expected, strict=False):
        assert parameter.default == default or parameter.default is default
    assert all(p.default is not REQUIRED for p in found[len(expected) :])


def test_exports_in_the_specs_order() -> None:
    assert torch_package.__all__ == [
        "TorchInferenceModel",
        "TorchTrainingModel",
        "default_infer_procedure",
        "get_device",
        "LRSchedulersDict",
        "OptimizersDict",
        "OptimizersSetup",
        "StateDict",
        "TorchTrainer",
        "TorchAgent",
    ]
    for name in ("StateDict", "OptimizersDict", "LRSchedulersDict", "OptimizersSetup"):
        assert isinstance(getattr(trainer_module, name), TypeAliasType)
    for name in (
        "InferenceProcedureCallable",
        "get_device",
        "default_infer_procedure",
        "UnwrappedContextManager",
        "TorchInferenceModel",
        "TorchTrainingModel",
    ):
        assert hasattr(model_module, name)


def test_abstract_methods() -> None:
    assert TorchTrainer.__abstractmethods__ == {"create_optimizers", "train"}
