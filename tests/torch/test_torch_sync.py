"""What a sync of a TorchTrainingModel guarantees.

- Training never notices it: the module, its parameters, gradients, mode and the
  optimizer that holds them are untouched, so results are bit-identical.
- Inference never sees a half-written parameter set, never goes back to an older one,
  and (double-buffered) waits at most for a pointer swap.
"""

import threading
from itertools import chain
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from racing import run_in_threads
from torch import nn

from pamiq_core.torch import TorchInferenceModel, TorchTrainingModel

JOIN_TIMEOUT = 60
BOTH_MODES = pytest.mark.parametrize(
    "in_place", [False, True], ids=["double", "in_place"]
)


def raw(model: TorchInferenceModel[Any]) -> nn.Module:
    return model._raw_model  # pyright: ignore[reportPrivateUsage]


def back(model: TorchInferenceModel[Any]) -> nn.Module | None:
    return model._back  # pyright: ignore[reportPrivateUsage]


def all_tensors(module: nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


def assert_same_values(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(8)
        self.dropout = nn.Dropout(0.2)
        self.out = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(torch.relu(self.norm(self.hidden(x)))))


def train_step(
    model: TorchTrainingModel[Net], optimizer: torch.optim.Optimizer
) -> None:
    x = torch.randn(16, 4)
    loss = F.mse_loss(model(x), x.sum(dim=1, keepdim=True))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class TestTrainingSideIsUntouched:
    @BOTH_MODES
    def test_module_and_parameters_keep_their_identity(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        module, tensors = model.model, all_tensors(model.model)
        optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
        for _ in range(20):
            train_step(model, optimizer)
            model.sync()
        assert model.model is module
        assert all(map(lambda a, b: a is b, all_tensors(model.model), tensors))

    @BOTH_MODES
    def test_an_optimizer_built_before_syncs_keeps_training_the_model(
        self, in_place: bool
    ) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        optimizer = torch.optim.SGD(model.model.parameters(), lr=0.1)
        model.sync()
        for _ in range(5):
            before = model.model.out.weight.detach().clone()
            train_step(model, optimizer)
            assert not torch.equal(model.model.out.weight, before)
            model.sync()
            assert_same_values(raw(model.inference_model), model.model)

    @BOTH_MODES
    def test_gradients_stay_as_they_were(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        model(torch.randn(16, 4)).sum().backward()
        grads = [p.grad for p in model.model.parameters()]
        values = [g.clone() for g in grads if g is not None]
        model.sync()
        assert [p.grad for p in model.model.parameters()] == grads  # same objects
        assert all(map(torch.equal, [g for g in grads if g is not None], values))

    @BOTH_MODES
    @pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
    def test_train_or_eval_mode_stays_as_it_was(
        self, in_place: bool, training: bool
    ) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        model.model.train(training)
        model.sync()
        assert all(m.training == training for m in model.model.modules())

    @BOTH_MODES
    def test_training_with_a_sync_after_every_step_is_bit_identical(
        self, in_place: bool
    ) -> None:
        plain = train_200_adam_steps(sync=False, in_place=in_place)
        synced = train_200_adam_steps(sync=True, in_place=in_place)
        for (name, a), b in zip(
            chain(plain.model.named_parameters(), plain.model.named_buffers()),
            all_tensors(synced.model),
            strict=True,
        ):
            assert torch.equal(a, b), name
        assert_same_state(plain.optimizer.state_dict(), synced.optimizer.state_dict())
        assert_same_state(plain.scheduler.state_dict(), synced.scheduler.state_dict())
        assert_same_values(raw(synced.model_pair.inference_model), synced.model)


class Run:
    def __init__(
        self,
        model_pair: TorchTrainingModel[Net],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
    ) -> None:
        self.model_pair = model_pair
        self.model = model_pair.model
        self.optimizer = optimizer
        self.scheduler = scheduler


def train_200_adam_steps(sync: bool, in_place: bool) -> Run:
    torch.manual_seed(0)  # initial weights, data and dropout masks
    model = TorchTrainingModel(Net(), in_place=in_place)
    if sync:
        model.sync()  # creates the inference copies first
    optimizer = torch.optim.Adam(model.model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
    for _ in range(200):
        train_step(model, optimizer)
        scheduler.step()
        if sync:
            model.sync()
    return Run(model, optimizer, scheduler)


def assert_same_state(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor)
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict)
        assert a.keys() == b.keys()  # pyright: ignore[reportUnknownMemberType]
        for key in a:  # pyright: ignore[reportUnknownVariableType]
            assert_same_state(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple)
        assert len(a) == len(b)  # pyright: ignore[reportUnknownArgumentType]
        for x, y in zip(a, b, strict=True):  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
            assert_same_state(x, y)
    else:
        assert a == b


class TestInferenceSide:
    @BOTH_MODES
    def test_sees_new_values_only_after_a_sync(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        inference = model.inference_model
        x = torch.randn(3, 4)
        before = inference(x)
        optimizer = torch.optim.SGD(model.model.parameters(), lr=0.1)
        train_step(model, optimizer)
        assert torch.equal(inference(x), before)
        model.sync()
        assert not torch.equal(inference(x), before)
        assert_same_values(raw(inference), model.model)

    @BOTH_MODES
    def test_gets_every_buffer_including_integer_counters(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        model(torch.randn(16, 4))  # train mode: updates running stats and the counter
        model.sync()
        norm = raw(model.inference_model).norm
        assert isinstance(norm, nn.BatchNorm1d)
        assert norm.num_batches_tracked is not None
        assert norm.num_batches_tracked.item() == 1
        assert_same_values(raw(model.inference_model), model.model)

    @BOTH_MODES
    def test_modules_stay_in_eval_mode_without_gradients(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        model(torch.randn(16, 4)).sum().backward()
        for _ in range(3):
            model.sync()
        inference = model.inference_model
        modules = [m for m in (raw(inference), back(inference)) if m is not None]
        for module in modules:
            assert module is not model.model
            assert not any(m.training for m in module.modules())
            for parameter in module.parameters():
                assert not parameter.requires_grad
                assert parameter.grad is None

    def test_double_buffering_alternates_between_two_modules(self) -> None:
        model = TorchTrainingModel(Net())
        inference = model.inference_model
        first = raw(inference)
        assert back(inference) is None  # made at the first sync
        model.sync()
        second = raw(inference)
        assert second is not first
        assert back(inference) is first
        fronts = set()
        for _ in range(6):
            model.sync()
            fronts.add(id(raw(inference)))
        assert fronts == {id(first), id(second)}

    def test_in_place_writes_into_the_single_copy(self) -> None:
        model = TorchTrainingModel(Net(), in_place=True)
        inference = model.inference_model
        front = raw(inference)
        tensors = all_tensors(front)
        for _ in range(3):
            model.sync()
        assert raw(inference) is front
        assert back(inference) is None
        assert all(map(lambda a, b: a is b, all_tensors(front), tensors))

    @BOTH_MODES
    def test_sync_versions_count_syncs_on_both_sides(self, in_place: bool) -> None:
        model = TorchTrainingModel(Net(), in_place=in_place)
        inference = model.inference_model
        assert (model.sync_version, inference.sync_version) == (0, 0)
        for version in range(1, 4):
            model.sync()
            assert (model.sync_version, inference.sync_version) == (version, version)

    def test_a_replaced_inference_module_gets_a_fresh_back_module(self) -> None:
        model = TorchTrainingModel(Net())
        inference = model.inference_model
        model.sync()
        replacement = Net().eval()
        inference._raw_model = replacement  # pyright: ignore[reportPrivateUsage]
        assert back(inference) is None
        model.sync()
        assert_same_values(raw(inference), model.model)
        assert back(inference) is replacement

    def test_nothing_to_sync_without_inference_model(self) -> None:
        model = TorchTrainingModel(Net(), has_inference_model=False)
        model.sync()
        assert model.sync_version == 0


class TestHandOverWhileInferenceRuns:
    """A double-buffered sync does not wait for running inference."""

    def test_a_sync_completes_while_inference_holds_the_lock(self) -> None:
        model, inference = synced_once()
        with inference.unwrap() as running:
            fill(model.model, 2)
            syncing = start(model.sync)
            syncing.join(JOIN_TIMEOUT)
            assert not syncing.is_alive()
            assert model.sync_version == 2
            assert inference.sync_version == 1  # the block keeps its parameters
            assert raw(inference) is running
            assert_all_equal(running, 1)
        with inference.unwrap() as module:  # the next entry takes the new ones
            assert inference.sync_version == 2
            assert_all_equal(module, 2)

    def test_a_nested_block_keeps_the_outer_blocks_module(self) -> None:
        model, inference = synced_once()
        with inference.unwrap() as outer:
            fill(model.model, 2)
            start(model.sync).join(JOIN_TIMEOUT)
            with inference.unwrap() as inner:
                assert inner is outer
            inference(torch.randn(2, 4))
            assert raw(inference) is outer
            assert_all_equal(outer, 1)
        assert inference.sync_version == 1
        inference(torch.randn(2, 4))
        assert inference.sync_version == 2
        assert_all_equal(raw(inference), 2)

    def test_a_sync_inside_the_own_block_takes_effect_after_it(self) -> None:
        model, inference = synced_once()
        with inference.unwrap() as module:
            fill(model.model, 2)
            model.sync()
            assert raw(inference) is module
            assert_all_equal(module, 1)
        with inference.unwrap() as module:
            assert inference.sync_version == 2
            assert_all_equal(module, 2)

    def test_a_second_sync_waits_until_inference_took_up_the_first(self) -> None:
        model, inference = synced_once()
        with inference.unwrap():
            start(model.sync).join(JOIN_TIMEOUT)
            fill(model.model, 3)
            second = start(model.sync)
            second.join(0.05)  # it must first withdraw the pending swap
            assert second.is_alive()
        second.join(JOIN_TIMEOUT)
        assert not second.is_alive()
        with inference.unwrap() as module:
            assert inference.sync_version == 3
            assert_all_equal(module, 3)


def synced_once() -> tuple[TorchTrainingModel[Net], TorchInferenceModel[Net]]:
    """A double-buffered pair whose inference runs sync 1, all values 1."""
    model = TorchTrainingModel(Net())
    fill(model.model, 1)
    model.sync()
    return model, model.inference_model


def start(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def assert_all_equal(module: nn.Module, value: int) -> None:
    for tensor in all_tensors(module):
        assert torch.all(tensor == value)


class TestStructureChanges:
    def test_a_reassigned_buffer_is_synced(self) -> None:
        model = TorchTrainingModel(Net())
        model.sync()
        model.model.norm.running_mean = torch.full((8,), 3.0)
        model.sync()
        model.sync()  # both buffers of the double buffer
        for module in (raw(model.inference_model), back(model.inference_model)):
            assert isinstance(module, Net)
            assert torch.equal(module.norm.running_mean, torch.full((8,), 3.0))  # pyright: ignore[reportArgumentType]

    def test_a_module_grown_after_pairing_cannot_be_synced(self) -> None:
        model = TorchTrainingModel(Net())
        model.sync()
        model.model.extra = nn.Linear(1, 1)
        with pytest.raises(ValueError, match=r"lacks \[extra.weight, extra.bias\]"):
            model.sync()

    def test_a_reshaped_parameter_is_named(self) -> None:
        model = TorchTrainingModel(Net())
        model.sync()
        model.model.out.weight = nn.Parameter(torch.zeros(2, 8))
        with pytest.raises(ValueError, match=r"'out.weight'.*\(2, 8\).*\(1, 8\)"):
            model.sync()


class Probe(nn.Module):
    """Many tensors; with every tensor filled with one number, reading them all
    reveals whether inference saw one version or a mix."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(64, 64) for _ in range(12))
        self.norm = nn.BatchNorm1d(64)

    def read(self) -> torch.Tensor:
        tensors = [*self.parameters(), *self.buffers()]
        return torch.stack([t.float().flatten()[i] for t in tensors for i in (0, -1)])


def fill(module: nn.Module, value: int) -> None:
    with torch.no_grad():
        for tensor in all_tensors(module):
            tensor.fill_(value)


VERSIONS = 2_000


@pytest.mark.usefixtures("fast_thread_switching")
@BOTH_MODES
def test_inference_sees_only_whole_synced_versions_in_order(in_place: bool) -> None:
    """Thousands of syncs race with inference; every read shows one synced version."""
    probe = Probe()
    fill(probe, 0)
    model = TorchTrainingModel(probe, inference_procedure="read", in_place=in_place)
    inference = model.inference_model
    done = threading.Event()
    reads: list[tuple[float, float]] = []
    versions_seen: list[tuple[int, float]] = []
    left_to_inference: list[bool] = []  # syncs that found inference holding the lock

    def train() -> None:
        try:
            for version in range(1, VERSIONS + 1):
                fill(model.model, version)
                model.sync()
                left_to_inference.append(inference._ready is not None)  # pyright: ignore[reportPrivateUsage]
        finally:
            done.set()

    def infer() -> None:
        while not done.is_set():
            values = inference()
            reads.append((values.min().item(), values.max().item()))
            with inference.unwrap() as module:
                assert isinstance(module, Probe)
                marker = module.norm.running_var
                assert marker is not None
                versions_seen.append((inference.sync_version, marker[0].item()))
        values = inference()
        reads.append((values.min().item(), values.max().item()))

    run_in_threads(train, infer)

    mixed = [(low, high) for low, high in reads if low != high]
    assert mixed == []
    versions = [low for low, _ in reads]
    assert versions == sorted(versions)  # never goes back to an older version
    assert versions[-1] == VERSIONS
    assert len(set(versions)) > 10  # training really raced with inference
    assert all(version == value for version, value in versions_seen)
    if not in_place:  # both ways of swapping were exercised
        assert any(left_to_inference)
        assert not all(left_to_inference)
