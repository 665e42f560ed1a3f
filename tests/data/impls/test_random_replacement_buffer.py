import math
import pickle
import random
import re
from pathlib import Path

import pytest

from pamiq_core.data import DataBuffer, impls
from pamiq_core.data.impls import (
    DictRandomReplacementBuffer,
    RandomReplacementBuffer,
)
from pamiq_core.data.impls import random_replacement_buffer as module

compute = (
    RandomReplacementBuffer.compute_replace_probability_from_expected_survival_length
)


def test_exports() -> None:
    assert module.RandomReplacementBuffer is impls.RandomReplacementBuffer
    assert module.DictRandomReplacementBuffer is impls.DictRandomReplacementBuffer


class ScriptedRandom:
    """Replaces random.random / random.randint with scripted values."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.randoms: list[float] = []
        self.randints: list[int] = []
        self.randint_calls: list[tuple[int, int]] = []
        monkeypatch.setattr(random, "random", lambda: self.randoms.pop(0))
        monkeypatch.setattr(random, "randint", self._randint)

    def _randint(self, a: int, b: int) -> int:
        self.randint_calls.append((a, b))
        return self.randints.pop(0)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedRandom:
    return ScriptedRandom(monkeypatch)


class TestConstruction:
    def test_constructible_through_a_subscript(self) -> None:
        buffer = RandomReplacementBuffer[int](3)
        assert type(buffer) is RandomReplacementBuffer
        assert isinstance(buffer, DataBuffer)

    def test_default_probability_is_one_and_queue_equals_size(self) -> None:
        buffer = RandomReplacementBuffer[int](10)
        assert buffer._replace_probability == 1.0
        assert buffer.max_size == 10
        assert buffer.max_queue_size == 10

    def test_queue_size_is_max_size_over_probability(self) -> None:
        assert (
            RandomReplacementBuffer[int](10, replace_probability=0.3).max_queue_size
            == 33
        )

    def test_probability_from_expected_survival_length(self) -> None:
        buffer = RandomReplacementBuffer[int](10, expected_survival_length=100)
        assert buffer._replace_probability == pytest.approx(compute(10, 100))

    def test_both_probability_arguments_are_rejected(self) -> None:
        with pytest.raises(
            ValueError,
            match=r"^Cannot specify both replace_probability and expected_survival_length",
        ):
            RandomReplacementBuffer[int](
                10, replace_probability=0.5, expected_survival_length=10
            )

    @pytest.mark.parametrize("p", [-0.1, 1.5])
    def test_probability_outside_unit_interval(self, p: float) -> None:
        message = "replace_probability must be between 0.0 and 1.0 inclusive"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            RandomReplacementBuffer[int](10, replace_probability=p)

    def test_zero_probability_is_a_value_error_naming_the_argument(self) -> None:
        # 0.6 failed with ZeroDivisionError; the error is both types.
        with pytest.raises(ValueError, match="replace_probability") as info:
            RandomReplacementBuffer[int](10, replace_probability=0.0)
        assert isinstance(info.value, ZeroDivisionError)

    @pytest.mark.parametrize("kwargs", [{}, {"expected_survival_length": 10}])
    def test_zero_max_size_is_a_value_error_naming_the_argument(
        self, kwargs: dict[str, int]
    ) -> None:
        with pytest.raises(ValueError, match="max_size must be positive"):
            RandomReplacementBuffer[int](0, **kwargs)

    def test_negative_max_size(self) -> None:
        with pytest.raises(ValueError, match="must be non-negative"):
            RandomReplacementBuffer[int](-1)

    @pytest.mark.parametrize("length", [0, -5])
    def test_non_positive_survival_length(self, length: int) -> None:
        with pytest.raises(ValueError, match="expected_survival_length") as info:
            RandomReplacementBuffer[int](10, expected_survival_length=length)
        assert isinstance(info.value, ZeroDivisionError)


class TestProbabilityFormula:
    def test_coupon_collector_formula(self) -> None:
        gamma = 0.5772156649015329
        assert compute(10, 1000) == pytest.approx(10 / 1000 * (math.log(10) + gamma))

    def test_clamped_to_one(self) -> None:
        assert compute(100, 1) == 1.0

    def test_rejects_non_positive_arguments(self) -> None:
        with pytest.raises(ValueError, match="max_size"):
            compute(0, 10)
        with pytest.raises(ZeroDivisionError, match="survival_length"):
            compute(10, 0)


class TestAdding:
    def test_fills_in_order_until_full(self) -> None:
        buffer = RandomReplacementBuffer[int](3)
        for i in range(3):
            assert not buffer.is_full
            buffer.add(i)
        assert buffer.is_full
        assert buffer.get_data() == [0, 1, 2]
        assert len(buffer) == 3

    def test_full_buffer_replaces_the_slot_randint_picks(
        self, scripted: ScriptedRandom
    ) -> None:
        buffer = RandomReplacementBuffer[int](3, replace_probability=0.5)
        for i in range(3):
            buffer.add(i)
        scripted.randoms = [0.5]
        scripted.randints = [1]
        buffer.add(9)
        assert buffer.get_data() == [0, 9, 2]
        assert scripted.randint_calls == [(0, 2)]
        assert len(buffer) == 3

    def test_full_buffer_discards_when_random_exceeds_probability(
        self, scripted: ScriptedRandom
    ) -> None:
        buffer = RandomReplacementBuffer[int](2, replace_probability=0.5)
        buffer.add(0)
        buffer.add(1)
        scripted.randoms = [0.51]
        buffer.add(9)
        assert buffer.get_data() == [0, 1]
        assert scripted.randint_calls == []

    def test_get_data_is_a_copy(self) -> None:
        buffer = RandomReplacementBuffer[int](2)
        buffer.add(1)
        buffer.get_data().append(5)
        assert buffer.get_data() == [1]


class TestState:
    def test_saves_the_list_to_a_pkl_file(self, tmp_path: Path) -> None:
        buffer = RandomReplacementBuffer[int](3)
        buffer.add(1)
        buffer.add(2)
        buffer.save_state(tmp_path / "buffer")
        with open(tmp_path / "buffer.pkl", "rb") as f:
            assert pickle.load(f) == [1, 2]

    def test_load_keeps_the_first_slots(self, tmp_path: Path) -> None:
        with open(tmp_path / "buffer.pkl", "wb") as f:
            pickle.dump((1, 2), f)
        buffer = RandomReplacementBuffer[int](1)
        buffer.load_state(tmp_path / "buffer")
        assert buffer.get_data() == [1]
        assert len(buffer) == 1
        assert buffer.is_full


class TestDictRandomReplacementBuffer:
    def test_constructible_through_a_subscript(self) -> None:
        buffer = DictRandomReplacementBuffer[float](["a"], max_size=3)
        assert type(buffer) is DictRandomReplacementBuffer
        assert buffer.max_size == 3
        assert buffer.max_queue_size == 3
        assert not hasattr(buffer, "is_full")

    def test_validation_comes_from_the_inner_buffer(self) -> None:
        with pytest.raises(ValueError, match=r"^Cannot specify both"):
            DictRandomReplacementBuffer[float](
                ["a"], 3, replace_probability=0.5, expected_survival_length=3
            )
        with pytest.raises(ValueError, match="max_size"):
            DictRandomReplacementBuffer[float](["a"], 0)

    def test_values_per_key_in_slot_order(self, scripted: ScriptedRandom) -> None:
        buffer = DictRandomReplacementBuffer[int](["a", "b"], 2)
        buffer.add({"a": 1, "b": 10})
        buffer.add({"a": 2, "b": 20})
        scripted.randoms = [0.0]
        scripted.randints = [0]
        buffer.add({"a": 3, "b": 30})
        assert buffer.get_data() == {"a": [3, 2], "b": [30, 20]}
        assert len(buffer) == 2

    def test_mismatched_keys(self) -> None:
        buffer = DictRandomReplacementBuffer[int](["a"], 2)
        message = "Data keys {'b'} do not match expected keys {'a'}"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            buffer.add({"b": 1})

    def test_copies_the_callers_dict(self) -> None:
        buffer = DictRandomReplacementBuffer[int](["x"], 5)
        step = {"x": 0}
        for i in range(3):
            step["x"] = i
            buffer.add(step)
        assert buffer.get_data() == {"x": [0, 1, 2]}

    def test_state_is_a_list_of_plain_dicts_and_round_trips(
        self, tmp_path: Path
    ) -> None:
        buffer = DictRandomReplacementBuffer[int](["a"], 3)
        buffer.add({"a": 1})
        buffer.save_state(tmp_path / "buffer")
        with open(tmp_path / "buffer.pkl", "rb") as f:
            assert pickle.load(f) == [{"a": 1}]
        restored = DictRandomReplacementBuffer[int](["a"], 3)
        restored.load_state(tmp_path / "buffer")
        assert restored.get_data() == {"a": [1]}

    def test_save_and_load_are_ordinary_methods(self) -> None:
        buffer = DictRandomReplacementBuffer[int](["a"], 3)
        assert "save_state" not in vars(buffer)
        assert "load_state" not in vars(buffer)
