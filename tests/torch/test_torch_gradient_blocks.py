"""Gradients inside ``unwrap(inference_mode=False)``: 0.6's "gradient-based analysis".

Inside such a block, backward fills the gradients of the agent's copy (and of the
inputs) as in 0.6. The training model never notices; the block's end puts the copy
back to ``requires_grad=False`` without gradients, also when the block raises; and a
sync that comes meanwhile neither changes the block's module nor fails.
"""

import threading
from typing import Any

import pytest
import torch
from racing import run_in_threads
from torch import nn

from pamiq_core.torch import TorchInferenceModel, TorchTrainingModel

JOIN_TIMEOUT = 60
BOTH_MODES = pytest.mark.parametrize(
    "in_place", [False, True], ids=["double", "in_place"]
)


def raw(model: TorchInferenceModel[Any]) -> nn.Module:
    return model._raw_model  # pyright: ignore[reportPrivateUsage]


def lock_is_free(model: TorchInferenceModel[Any]) -> bool:
    """Whether another thread could take ``model``'s lock right now."""
    lock = model._lock  # pyright: ignore[reportPrivateUsage]
    free: list[bool] = []

    def probe() -> None:
        acquired = lock.acquire(blocking=False)
        if acquired:
            lock.release()
        free.append(acquired)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    return free == [True]


def net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def fill(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.fill_(value)


def assert_no_gradient_state(module: nn.Module) -> None:
    for name, parameter in module.named_parameters():
        assert not parameter.requires_grad, f"{name} still requires grad"
        assert parameter.grad is None, f"{name} kept a gradient"


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [parameter.detach().clone() for parameter in module.parameters()]


def assert_values(module: nn.Module, expected: list[torch.Tensor]) -> None:
    for parameter, value in zip(module.parameters(), expected, strict=True):
        assert torch.equal(parameter, value)


class TestGradientsInsideTheBlock:
    def test_backward_fills_the_weight_and_input_gradients_as_in_0_6(self) -> None:
        model = TorchTrainingModel(net())
        x = torch.randn(5, 3, requires_grad=True)
        reference = net()  # the same parameters, run with plain autograd
        x_reference = x.detach().clone().requires_grad_()
        reference(x_reference).sum().backward()

        with model.inference_model.unwrap(inference_mode=False) as module:
            module(x).sum().backward()
            for (name, got), expected in zip(
                module.named_parameters(), reference.parameters(), strict=True
            ):
                assert got.grad is not None, f"no gradient for {name}"
                assert torch.allclose(got.grad, expected.grad), name  # pyright: ignore[reportArgumentType]
        assert x.grad is not None
        assert torch.allclose(x.grad, x_reference.grad)  # pyright: ignore[reportArgumentType]

    def test_parameters_frozen_in_the_training_module_stay_frozen(self) -> None:
        model = TorchTrainingModel(net())
        model.model[0].weight.requires_grad_(False)
        with model.inference_model.unwrap(inference_mode=False) as module:
            module(torch.randn(2, 3)).sum().backward()
            assert module[0].weight.grad is None
            assert not module[0].weight.requires_grad
            assert module[0].bias.grad is not None
            assert module[2].weight.grad is not None

    def test_an_inference_mode_block_still_has_no_gradients(self) -> None:
        model = TorchTrainingModel(net())
        with model.inference_model.unwrap() as module:
            assert_no_gradient_state(module)
            assert not module(torch.randn(2, 3)).requires_grad

    def test_infer_inside_a_gradient_block_gives_inference_tensors(self) -> None:
        model = TorchTrainingModel(net())
        inference = model.inference_model
        with inference.unwrap(inference_mode=False):
            output = inference(torch.randn(2, 3))
        assert output.is_inference()
        assert not output.requires_grad


class TestStateAfterTheBlock:
    @BOTH_MODES
    def test_the_end_of_the_block_restores_the_no_gradient_state(
        self, in_place: bool
    ) -> None:
        model = TorchTrainingModel(net(), in_place=in_place)
        model.sync()
        with model.inference_model.unwrap(inference_mode=False) as module:
            module(torch.randn(2, 3)).sum().backward()
        assert_no_gradient_state(module)
        assert module is raw(model.inference_model)

    def test_an_exception_in_the_block_restores_it_and_propagates(self) -> None:
        model = TorchTrainingModel(net())
        inference = model.inference_model
        used: list[nn.Module] = []

        def failing_analysis() -> None:
            with inference.unwrap(inference_mode=False) as module:
                used.append(module)
                module(torch.randn(2, 3)).sum().backward()
                raise KeyError("analysis failed")

        with pytest.raises(KeyError, match="analysis failed"):
            failing_analysis()
        assert_no_gradient_state(used[0])
        assert not torch.is_inference_mode_enabled()
        assert lock_is_free(inference)

    def test_a_failure_while_opening_the_block_leaves_nothing_behind(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def trainable_names(self: object) -> set[str]:
            raise RuntimeError("training module is being rebuilt")

        monkeypatch.setattr(TorchTrainingModel, "_trainable_names", trainable_names)
        model = TorchTrainingModel(net())
        inference = model.inference_model
        with torch.inference_mode():
            with pytest.raises(RuntimeError, match="being rebuilt"):
                inference.unwrap(inference_mode=False).__enter__()
            assert torch.is_inference_mode_enabled()  # the caller's mode is back
        assert not torch.is_inference_mode_enabled()
        assert_no_gradient_state(raw(inference))
        assert lock_is_free(inference)
        model.sync()  # swapped at once: no block is left open on this thread
        assert inference.sync_version == 1

    def test_nested_blocks_keep_gradients_until_the_outermost_ends(self) -> None:
        model = TorchTrainingModel(net())
        inference = model.inference_model
        with inference.unwrap(inference_mode=False) as outer:
            outer(torch.randn(2, 3)).sum().backward()
            with inference.unwrap(inference_mode=False) as inner:
                assert inner is outer
                inner(torch.randn(2, 3)).sum().backward()
            with inference.unwrap():
                pass
            assert all(p.requires_grad for p in outer.parameters())
            assert all(p.grad is not None for p in outer.parameters())
            outer(torch.randn(2, 3)).sum().backward()  # still works
        assert_no_gradient_state(outer)

    def test_a_gradient_block_inside_an_inference_block(self) -> None:
        model = TorchTrainingModel(net())
        inference = model.inference_model
        with inference.unwrap() as outer:
            with inference.unwrap(inference_mode=False) as inner:
                inner(torch.randn(2, 3)).sum().backward()
                assert inner[0].weight.grad is not None
            assert torch.is_inference_mode_enabled()
            assert_no_gradient_state(outer)


class TestTrainingModelUntouched:
    def test_values_gradients_flags_and_optimizer_stay_as_they_were(self) -> None:
        model = TorchTrainingModel(net())
        model.model[2].bias.requires_grad_(False)
        optimizer = torch.optim.Adam(
            (p for p in model.model.parameters() if p.requires_grad), lr=0.1
        )
        model(torch.randn(4, 3)).sum().backward()
        optimizer.step()
        model.sync()
        values, grads = (
            snapshot(model.model),
            [p.grad for p in model.model.parameters()],
        )
        grad_values = [None if g is None else g.clone() for g in grads]
        optimizer_state = repr(optimizer.state_dict())

        with model.inference_model.unwrap(inference_mode=False) as module:
            module(torch.randn(4, 3)).sum().backward()

        assert_values(model.model, values)
        for parameter, grad, value in zip(
            model.model.parameters(), grads, grad_values, strict=True
        ):
            assert parameter.grad is grad
            if value is not None:
                assert torch.equal(parameter.grad, value)  # pyright: ignore[reportArgumentType]
        assert [p.requires_grad for p in model.model.parameters()] == [
            True,
            True,
            True,
            False,
        ]
        assert repr(optimizer.state_dict()) == optimizer_state

    def test_training_with_gradient_blocks_in_between_is_bit_identical(self) -> None:
        def train(with_blocks: bool) -> nn.Module:
            model = TorchTrainingModel(net())
            optimizer = torch.optim.SGD(model.model.parameters(), lr=0.05)
            data = torch.Generator().manual_seed(1)
            for _ in range(20):
                loss = model(torch.randn(8, 3, generator=data)).pow(2).mean()
                optimizer.zero_grad()
                loss.backward()
                if with_blocks:
                    with model.inference_model.unwrap(inference_mode=False) as copy:
                        copy(torch.randn(8, 3)).sum().backward()
                optimizer.step()
                model.sync()
            return model.model

        with_blocks, without = train(True), train(False)
        assert_values(with_blocks, snapshot(without))


class TestSyncDuringTheBlock:
    def test_a_double_buffered_sync_is_taken_up_after_the_block(self) -> None:
        model = TorchTrainingModel(net())
        fill(model.model, 1.0)
        model.sync()
        inference = model.inference_model
        with inference.unwrap(inference_mode=False) as module:
            before = snapshot(module)
            fill(model.model, 2.0)
            syncing = threading.Thread(target=model.sync)
            syncing.start()
            syncing.join(JOIN_TIMEOUT)  # it does not wait for the block
            assert not syncing.is_alive()
            assert model.sync_version == 2
            assert inference.sync_version == 1
            assert_values(module, before)
            module(torch.randn(2, 3)).sum().backward()
            assert all(p.grad is not None for p in module.parameters())
        with inference.unwrap() as current:
            assert inference.sync_version == 2
            assert current is not module
            assert all(torch.all(p == 2.0) for p in current.parameters())
        assert_no_gradient_state(module)  # now the back module, for the next sync
        fill(model.model, 3.0)
        model.sync()
        with inference.unwrap() as current:
            assert current is module
            assert all(torch.all(p == 3.0) for p in current.parameters())

    def test_an_in_place_sync_waits_for_the_block_and_then_writes(self) -> None:
        model = TorchTrainingModel(net(), in_place=True)
        fill(model.model, 1.0)
        model.sync()
        inference = model.inference_model
        lock = WatchedLock()
        inference._lock = lock  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue]  # duck-typed RLock
        with inference.unwrap(inference_mode=False) as module:
            before = snapshot(module)
            fill(model.model, 2.0)
            syncing = threading.Thread(target=model.sync)
            syncing.start()
            assert lock.waiting.wait(JOIN_TIMEOUT), "the sync never asked for the lock"
            module(torch.randn(2, 3)).sum().backward()
            assert_values(module, before)
            assert inference.sync_version == 1
        syncing.join(JOIN_TIMEOUT)
        assert not syncing.is_alive()
        with inference.unwrap() as current:
            assert current is module
            assert inference.sync_version == 2
            assert all(torch.all(p == 2.0) for p in current.parameters())
            assert_no_gradient_state(current)


class WatchedLock:
    """An RLock that tells when some thread has to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.waiting = threading.Event()

    def acquire(self, blocking: bool = True) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        if not blocking:
            return False
        self.waiting.set()
        return self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


BLOCKS_AND_SYNCS = 2_000


@pytest.mark.usefixtures("fast_thread_switching")
@BOTH_MODES
def test_syncs_racing_with_gradient_blocks_never_change_a_blocks_module(
    in_place: bool,
) -> None:
    """Thousands of syncs race with gradient blocks; each block sees one version."""
    model = TorchTrainingModel(net(), in_place=in_place)
    fill(model.model, 0.0)
    inference = model.inference_model  # sync k writes the value k
    done = threading.Event()
    versions: list[int] = []  # the version each block ran on
    overlapped: list[bool] = []  # whether a sync finished while the block was open
    x = torch.randn(2, 3)

    def train() -> None:
        try:
            for version in range(1, BLOCKS_AND_SYNCS + 1):
                fill(model.model, float(version))
                model.sync()
        finally:
            done.set()

    def analyse() -> None:
        while True:
            finished = done.is_set()
            with inference.unwrap(inference_mode=False) as module:
                syncs_at_start = model.sync_version
                version = inference.sync_version
                before = snapshot(module)
                assert all(torch.all(value == version) for value in before)
                module(x).sum().backward()
                assert all(p.grad is not None for p in module.parameters())
                assert_values(module, before)
                overlapped.append(model.sync_version > syncs_at_start)
            versions.append(version)
            assert_no_gradient_state(module)
            if finished:
                return

    run_in_threads(train, analyse)
    assert model.sync_version == BLOCKS_AND_SYNCS
    assert versions == sorted(versions), "a block went back to older parameters"
    assert versions[-1] == BLOCKS_AND_SYNCS, "the last sync was never taken up"
    assert len(set(versions)) > 10, "syncs and blocks did not interleave"
    if not in_place:  # in place, the training side waits for the block instead
        assert any(overlapped), "no sync finished during a block"


class TestModulesNotCopiedFromTraining:
    def test_an_inference_thread_only_model_keeps_its_flags_and_gradients(
        self,
    ) -> None:
        model = TorchTrainingModel(net(), inference_thread_only=True)
        model.model[0].weight.requires_grad_(False)  # frozen by the user
        optimizer = torch.optim.SGD(model.model.parameters(), lr=0.1)
        inference = model.inference_model
        with inference.unwrap(inference_mode=False) as module:
            assert module is model.model
            module(torch.randn(2, 3)).sum().backward()
        # As in 0.6: the gradients stay for the user's own update, flags unchanged.
        assert [p.requires_grad for p in module.parameters()] == [
            False,
            True,
            True,
            True,
        ]
        assert module[0].weight.grad is None
        assert module[2].weight.grad is not None
        before = snapshot(module)
        optimizer.step()  # the user's own update still works
        after = snapshot(module)
        assert torch.equal(after[0], before[0])  # frozen
        assert not torch.equal(after[2], before[2])

    def test_a_module_given_to_the_inference_model_is_left_as_it_is(self) -> None:
        module = net()
        inference = TorchInferenceModel(module, lambda m, x: m(x))
        with inference.unwrap(inference_mode=False) as entered:
            entered(torch.randn(2, 3)).sum().backward()
        assert all(p.requires_grad for p in module.parameters())
        assert all(p.grad is not None for p in module.parameters())


class Mlp(nn.Module):
    """A module of our own: Dynamo traces it (it skips torch.nn's own forwards)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = net()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.layers(x))


@pytest.mark.usefixtures("eager_compile_backend")
def test_gradient_blocks_work_on_compiled_copies() -> None:
    from torch._dynamo.utils import counters

    counters.clear()
    model = TorchTrainingModel(Mlp(), compile=True)
    inference = model.inference_model
    x = torch.randn(2, 3)
    expected = model.model.eval()(x).detach()
    for _ in range(3):  # later rounds run what the first one compiled
        assert torch.allclose(inference(x), expected)
        with inference.unwrap(inference_mode=False) as module:
            module(x).sum().backward()
            assert all(p.grad is not None for p in module.parameters())
        assert_no_gradient_state(module)
        model.sync()
    assert torch.allclose(inference(x), expected)
    assert counters["stats"]["calls_captured"] > 0, "nothing was compiled"
