"""TorchInferenceModel and the locked access it gives to its module."""

import threading
from typing import Any

import pytest
import torch
from torch import nn

from pamiq_core import InferenceModel
from pamiq_core.torch import TorchInferenceModel, default_infer_procedure
from pamiq_core.torch.model import UnwrappedContextManager

JOIN_TIMEOUT = 30


class RecordingLock:
    """An RLock that records whether inference mode was on at each acquire/release."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.events: list[tuple[str, bool]] = []

    def acquire(self) -> bool:
        self.events.append(("acquire", torch.is_inference_mode_enabled()))
        return self._lock.acquire()

    def release(self) -> None:
        self.events.append(("release", torch.is_inference_mode_enabled()))
        self._lock.release()


def held_by_another_thread(lock: Any) -> bool:
    """Whether ``lock`` cannot be acquired right now from a fresh thread."""
    result: list[bool] = []

    def probe() -> None:
        acquired = lock.acquire(blocking=False)
        if acquired:
            lock.release()
        result.append(not acquired)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    return result[0]


def lock_of(model: TorchInferenceModel[Any]) -> Any:
    return model._lock  # pyright: ignore[reportPrivateUsage]


class TestUnwrappedContextManager:
    def test_is_subscriptable_at_run_time(self) -> None:
        module = nn.Linear(1, 1)
        manager = UnwrappedContextManager[nn.Linear](module, threading.RLock(), True)
        with manager as entered:
            assert entered is module

    def test_enters_inference_mode_before_locking_and_leaves_it_after(self) -> None:
        lock = RecordingLock()
        manager = UnwrappedContextManager(nn.Linear(1, 1), lock, True)  # type: ignore[arg-type]  # duck-typed lock
        with manager:
            assert torch.is_inference_mode_enabled()
        assert lock.events == [("acquire", True), ("release", True)]
        assert not torch.is_inference_mode_enabled()

    def test_holds_the_lock_inside_the_block_only(self) -> None:
        lock = threading.RLock()
        with UnwrappedContextManager(nn.Linear(1, 1), lock, True):
            assert held_by_another_thread(lock)
        assert not held_by_another_thread(lock)

    def test_inference_mode_false_turns_it_off_so_gradients_work(self) -> None:
        module = nn.Linear(2, 1)
        with (
            torch.inference_mode(),
            UnwrappedContextManager(module, threading.RLock(), False) as entered,
        ):
            assert not torch.is_inference_mode_enabled()
            entered(torch.ones(2)).sum().backward()
        assert module.weight.grad is not None

    def test_nests_on_the_same_reentrant_lock(self) -> None:
        lock = threading.RLock()
        manager = UnwrappedContextManager(nn.Linear(1, 1), lock, True)
        with manager, manager:
            assert held_by_another_thread(lock)
        assert not held_by_another_thread(lock)
        assert not torch.is_inference_mode_enabled()

    def test_lets_exceptions_through_and_releases_the_lock(self) -> None:
        lock = threading.RLock()
        with (
            pytest.raises(KeyError),
            UnwrappedContextManager(nn.Linear(1, 1), lock, True),
        ):
            raise KeyError("x")
        assert not held_by_another_thread(lock)
        assert not torch.is_inference_mode_enabled()


def twice(module: nn.Module, x: torch.Tensor, *, offset: float = 0.0) -> torch.Tensor:
    return module(x) * 2 + offset


class TestTorchInferenceModel:
    def test_is_an_inference_model_subscriptable_at_run_time(self) -> None:
        model = TorchInferenceModel[nn.Linear](nn.Linear(1, 1), default_infer_procedure)
        assert isinstance(model, InferenceModel)

    def test_infer_calls_the_procedure_with_the_module_first(self) -> None:
        module = nn.Linear(2, 1)
        model = TorchInferenceModel(module, twice)
        x = torch.ones(2)
        expected = module(x).detach() * 2 + 1
        assert torch.equal(model.infer(x, offset=1.0), expected)
        assert torch.equal(model(x, offset=1.0), expected)

    def test_infer_returns_inference_tensors_without_gradients(self) -> None:
        model = TorchInferenceModel(nn.Linear(2, 1), default_infer_procedure)
        output = model(torch.ones(2))
        assert output.is_inference()
        assert not output.requires_grad
        assert output.grad_fn is None
        with pytest.raises(RuntimeError):
            (output * 2).sum().backward()

    def test_infer_holds_the_lock_while_the_procedure_runs(self) -> None:
        held: list[bool] = []

        def procedure(module: nn.Module) -> None:
            held.append(held_by_another_thread(lock_of(model)))

        model = TorchInferenceModel(nn.Linear(1, 1), procedure)
        model()
        assert held == [True]
        assert not held_by_another_thread(lock_of(model))

    def test_unwrap_gives_the_module_under_the_lock_in_inference_mode(self) -> None:
        module = nn.Linear(1, 1)
        model = TorchInferenceModel(module, default_infer_procedure)
        with model.unwrap() as entered:
            assert entered is module
            assert torch.is_inference_mode_enabled()
            assert held_by_another_thread(lock_of(model))
        assert not held_by_another_thread(lock_of(model))

    def test_unwrap_without_inference_mode_allows_gradients(self) -> None:
        model = TorchInferenceModel(nn.Linear(2, 1), default_infer_procedure)
        x = torch.ones(2, requires_grad=True)
        with model.unwrap(inference_mode=False) as module:
            assert not torch.is_inference_mode_enabled()
            module(x).sum().backward()
        assert x.grad is not None

    def test_unwrap_returns_an_unwrapped_context_manager(self) -> None:
        model = TorchInferenceModel(nn.Linear(1, 1), default_infer_procedure)
        assert isinstance(model.unwrap(), UnwrappedContextManager)

    def test_unwrap_hands_out_the_module_current_when_the_block_is_entered(
        self,
    ) -> None:
        model = TorchInferenceModel(nn.Linear(1, 1), default_infer_procedure)
        manager = model.unwrap()
        replacement = nn.Linear(1, 1)
        model._raw_model = replacement  # pyright: ignore[reportPrivateUsage]
        with manager as entered:
            assert entered is replacement

    def test_raw_model_is_read_without_the_lock(self) -> None:
        module = nn.Linear(1, 1)
        model = TorchInferenceModel(module, default_infer_procedure)
        result: list[nn.Module] = []
        with model.unwrap():
            thread = threading.Thread(
                target=lambda: result.append(model._raw_model)  # pyright: ignore[reportPrivateUsage]
            )
            thread.start()
            thread.join(JOIN_TIMEOUT)
        assert result == [module]

    def test_replacing_the_raw_model_waits_for_running_inference(self) -> None:
        module, replacement = nn.Linear(1, 1), nn.Linear(1, 1)
        model = TorchInferenceModel(module, default_infer_procedure)

        def replace() -> None:
            model._raw_model = replacement  # pyright: ignore[reportPrivateUsage]

        thread = threading.Thread(target=replace)
        with model.unwrap() as entered:
            thread.start()
            thread.join(0.05)  # it cannot finish while we hold the lock
            assert thread.is_alive()
            assert model._raw_model is entered  # pyright: ignore[reportPrivateUsage]
        thread.join(JOIN_TIMEOUT)
        assert model._raw_model is replacement  # pyright: ignore[reportPrivateUsage]

    def test_starts_at_sync_version_zero(self) -> None:
        model = TorchInferenceModel(nn.Linear(1, 1), default_infer_procedure)
        assert model.sync_version == 0
