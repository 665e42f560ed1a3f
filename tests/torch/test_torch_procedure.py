"""get_device and the default inference procedure."""

from typing import Any

import torch
from torch import nn

from pamiq_core.torch import default_infer_procedure, get_device
from pamiq_core.torch.model import InferenceProcedureCallable

META = torch.device("meta")
CPU = torch.device("cpu")


class Recorder(nn.Module):
    """Records what it was called with and returns its first argument."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(2))
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def forward(self, *args: Any, **kwds: Any) -> Any:
        self.calls.append((args, kwds))
        return args[0]


class WithBuffer(nn.Module):
    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.register_buffer("counts", torch.zeros(3, device=device))


class TestGetDevice:
    def test_is_the_device_of_the_first_parameter(self) -> None:
        module = nn.Sequential(nn.Linear(2, 2, device=META), nn.Linear(2, 2))
        assert get_device(module) == META

    def test_parameters_take_precedence_over_buffers(self) -> None:
        module = nn.Module()
        module.buffers_only = WithBuffer(CPU)
        module.layer = nn.Linear(2, 2, device=META)
        assert get_device(module) == META

    def test_is_the_device_of_the_first_buffer_without_parameters(self) -> None:
        assert get_device(WithBuffer(META)) == META

    def test_is_the_given_default_for_a_module_without_tensors(self) -> None:
        assert get_device(nn.ReLU(), default_device=META) == META

    def test_is_torchs_default_device_otherwise(self) -> None:
        assert get_device(nn.ReLU()) == torch.get_default_device()


class TestDefaultInferProcedure:
    def test_moves_tensor_arguments_to_the_models_device(self) -> None:
        model = Recorder().to(META)
        default_infer_procedure(model, torch.ones(2), scale=torch.ones(1))
        (args, kwds) = model.calls[0]
        assert args[0].device == META
        assert kwds["scale"].device == META

    def test_passes_everything_else_unchanged_without_recursing(self) -> None:
        model = Recorder().to(META)
        tensors = [torch.ones(1)]
        options = {"x": torch.ones(1)}
        default_infer_procedure(model, 3, tensors, options=options, name="n")
        (args, kwds) = model.calls[0]
        assert args[0] == 3
        assert args[1] is tensors
        assert tensors[0].device == CPU
        assert kwds["options"] is options
        assert options["x"].device == CPU
        assert kwds["name"] == "n"

    def test_returns_the_output_on_the_models_device(self) -> None:
        model = Recorder().to(META)
        assert default_infer_procedure(model, torch.ones(2)).device == META

    def test_calls_the_module_so_that_its_hooks_run(self) -> None:
        model = Recorder()
        hooked: list[bool] = []
        model.register_forward_hook(lambda *_: hooked.append(True))
        default_infer_procedure(model, torch.ones(2))
        assert hooked == [True]

    def test_satisfies_the_procedure_protocol(self) -> None:
        procedure: InferenceProcedureCallable[nn.Linear] = default_infer_procedure
        assert procedure(nn.Linear(2, 1), torch.ones(2)).shape == (1,)

    def test_protocol_is_subscriptable_at_run_time(self) -> None:
        assert InferenceProcedureCallable[nn.Linear] is not None
