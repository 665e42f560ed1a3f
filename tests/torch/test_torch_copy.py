"""Copying all tensors of a module into a module of the same structure."""

import pytest
import torch
from torch import nn

from pamiq_core.torch._copy import ModuleCopier, ModuleTensors


class Tied(nn.Module):
    """Two layers sharing one weight, a layer without bias, and a BatchNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 3, bias=False)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight
        self.norm = nn.BatchNorm1d(3)


def randomized(module: nn.Module) -> nn.Module:
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            tensor.copy_(torch.randint(0, 100, tensor.shape))
    return module


def assert_same_values(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


class TestModuleTensors:
    def test_lists_parameters_then_buffers_once_each(self) -> None:
        tensors = ModuleTensors(Tied())
        assert tensors.names == [
            "a.weight",
            "b.bias",
            "norm.weight",
            "norm.bias",
            "norm.running_mean",
            "norm.running_var",
            "norm.num_batches_tracked",
        ]

    def test_is_current_until_the_structure_changes(self) -> None:
        module = Tied()
        tensors = ModuleTensors(module)
        randomized(module)  # values change in place: still current
        module.train(False)
        assert tensors.is_current()

    @pytest.mark.parametrize(
        "change",
        [
            "reassign a buffer",
            "replace a parameter",
            "add a parameter",
            "remove a buffer",
            "replace a submodule",
            "add a submodule",
        ],
    )
    def test_notices_a_structure_change(self, change: str) -> None:
        module = Tied()
        tensors = ModuleTensors(module)
        if change == "reassign a buffer":
            module.norm.running_mean = torch.zeros(3)
        elif change == "replace a parameter":
            module.b.bias = nn.Parameter(torch.zeros(3))
        elif change == "add a parameter":
            module.a.bias = nn.Parameter(torch.zeros(3))
        elif change == "remove a buffer":
            del module.norm.num_batches_tracked
        elif change == "replace a submodule":
            module.norm = nn.BatchNorm1d(3)
        else:
            module.norm.inner = nn.Linear(1, 1)
        assert not tensors.is_current()


class TestModuleCopier:
    def test_copies_every_parameter_and_buffer(self) -> None:
        source, target = randomized(Tied()), Tied()
        ModuleCopier().copy(source, target)
        assert_same_values(target, source)
        assert target.b.weight is target.a.weight  # ties kept

    def test_writes_into_the_targets_existing_tensors(self) -> None:
        source, target = randomized(Tied()), Tied()
        before = [*target.parameters(), *target.buffers()]
        ModuleCopier().copy(source, target)
        after = [*target.parameters(), *target.buffers()]
        assert all(map(lambda a, b: a is b, after, before))

    def test_follows_changes_of_the_source(self) -> None:
        source, target = Tied(), Tied()
        copier = ModuleCopier()
        copier.copy(source, target)
        source.norm.running_mean = torch.full((3,), 5.0)
        copier.copy(source, target)
        assert torch.equal(target.norm.running_mean, torch.full((3,), 5.0))  # pyright: ignore[reportArgumentType]

    def test_serves_several_sources_and_targets(self) -> None:
        copier = ModuleCopier()
        sources = [randomized(Tied()) for _ in range(2)]
        targets = [Tied() for _ in range(3)]
        for source in sources:
            for target in targets:
                copier.copy(source, target)
                assert_same_values(target, source)

    def test_refuses_modules_of_different_structure(self) -> None:
        target = Tied()
        target.b.register_parameter("bias", None)
        with pytest.raises(ValueError, match=r"lacks \[b.bias\] and has extra \[\]"):
            ModuleCopier().copy(Tied(), target)

    def test_refuses_tensors_of_different_dtype(self) -> None:
        target = Tied().double()
        with pytest.raises(
            ValueError, match=r"'a.weight'.*torch.float32.*torch.float64"
        ):
            ModuleCopier().copy(Tied(), target)
