"""What ``pamiq_core.torch`` exports, and how it fails without PyTorch."""

import importlib
import sys

import pytest

import pamiq_core.torch
from pamiq_core.torch import agent, model, trainer


def test_package_exports_the_spec_names_in_order() -> None:
    assert pamiq_core.torch.__all__ == [
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
    for name in pamiq_core.torch.__all__:
        source = next(m for m in (model, trainer, agent) if name in m.__all__)
        assert getattr(pamiq_core.torch, name) is getattr(source, name)


def test_model_module_exports_the_spec_names() -> None:
    assert model.__all__ == [
        "InferenceProcedureCallable",
        "get_device",
        "default_infer_procedure",
        "UnwrappedContextManager",
        "TorchInferenceModel",
        "TorchTrainingModel",
    ]


def test_importing_without_torch_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what a missing torch looks like
    monkeypatch.delitem(sys.modules, "pamiq_core.torch")
    with pytest.raises(ModuleNotFoundError) as raised:
        importlib.import_module("pamiq_core.torch")
    message = str(raised.value)
    assert "torch module not found" in message
    assert "pip install pamiq-core[torch]" in message
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)
