import pickle
import re
from collections import deque
from pathlib import Path

import pytest

from pamiq_core.data import DataBuffer, impls
from pamiq_core.data.impls import DictSequentialBuffer, SequentialBuffer
from pamiq_core.data.impls import sequential_buffer as module


def test_exports() -> None:
    assert module.SequentialBuffer is impls.SequentialBuffer is SequentialBuffer
    assert module.DictSequentialBuffer is impls.DictSequentialBuffer


class TestSequentialBuffer:
    def test_is_a_data_buffer_constructible_through_a_subscript(self) -> None:
        buffer = SequentialBuffer[int](10)
        assert type(buffer) is SequentialBuffer
        assert isinstance(buffer, DataBuffer)

    def test_max_size_is_also_the_queue_size(self) -> None:
        buffer = SequentialBuffer[int](7)
        assert buffer.max_size == 7
        assert buffer.max_queue_size == 7

    def test_keeps_the_newest_items_in_arrival_order(self) -> None:
        buffer = SequentialBuffer[int](3)
        for i in range(5):
            buffer.add(i)
        assert buffer.get_data() == [2, 3, 4]
        assert len(buffer) == 3

    def test_get_data_is_a_fresh_list(self) -> None:
        buffer = SequentialBuffer[int](3)
        buffer.add(1)
        data = buffer.get_data()
        data.append(99)
        assert buffer.get_data() == [1]

    def test_negative_size_is_rejected_with_the_base_message(self) -> None:
        with pytest.raises(ValueError, match=r"^max_queue_size must be non-negative"):
            SequentialBuffer[int](-1)

    def test_zero_size_is_rejected_naming_max_size(self) -> None:
        with pytest.raises(ValueError, match="max_size must be positive"):
            SequentialBuffer[int](0)

    def test_saves_its_deque_to_a_pkl_file(self, tmp_path: Path) -> None:
        buffer = SequentialBuffer[int](3)
        buffer.add(1)
        buffer.add(2)
        buffer.save_state(tmp_path / "buffer")
        with open(tmp_path / "buffer.pkl", "rb") as f:
            saved = pickle.load(f)
        assert saved == deque([1, 2], maxlen=3)
        assert saved.maxlen == 3

    def test_path_suffix_is_replaced(self, tmp_path: Path) -> None:
        SequentialBuffer[int](3).save_state(tmp_path / "buffer.old")
        assert (tmp_path / "buffer.pkl").exists()

    def test_load_keeps_the_newest_items_that_fit(self, tmp_path: Path) -> None:
        big = SequentialBuffer[int](5)
        for i in range(5):
            big.add(i)
        big.save_state(tmp_path / "buffer")
        small = SequentialBuffer[int](2)
        small.load_state(tmp_path / "buffer")
        assert small.get_data() == [3, 4]
        small.add(5)
        assert small.get_data() == [4, 5]

    def test_load_accepts_any_iterable(self, tmp_path: Path) -> None:
        with open(tmp_path / "buffer.pkl", "wb") as f:
            pickle.dump([1, 2, 3], f)
        buffer = SequentialBuffer[int](3)
        buffer.load_state(tmp_path / "buffer")
        assert buffer.get_data() == [1, 2, 3]


class TestDictSequentialBuffer:
    def test_constructible_through_a_subscript(self) -> None:
        buffer = DictSequentialBuffer[int](["a", "b"], 3)
        assert type(buffer) is DictSequentialBuffer
        assert buffer.max_size == 3
        assert buffer.max_queue_size == 3

    def test_returns_one_list_per_key_in_arrival_order(self) -> None:
        buffer = DictSequentialBuffer[int](["a", "b"], 2)
        for i in range(3):
            buffer.add({"a": i, "b": -i})
        assert buffer.get_data() == {"a": [1, 2], "b": [-1, -2]}
        assert len(buffer) == 2

    def test_empty_buffer_gives_empty_lists_and_no_keys_gives_empty_dict(self) -> None:
        assert DictSequentialBuffer[int](["a"], 2).get_data() == {"a": []}
        no_keys = DictSequentialBuffer[int]([], 2)
        no_keys.add({})
        assert no_keys.get_data() == {}
        assert len(no_keys) == 1

    def test_keys_is_a_copy_and_duplicates_collapse(self) -> None:
        buffer = DictSequentialBuffer[int](["a", "a", "b"], 2)
        keys = buffer.keys
        assert keys == {"a", "b"}
        keys.add("c")
        assert buffer.keys == {"a", "b"}

    @pytest.mark.parametrize(
        "data", [{"a": 1}, {"a": 1, "b": 2, "c": 3}, {"a": 1, "c": 3}]
    )
    def test_mismatched_keys_are_rejected(self, data: dict[str, int]) -> None:
        buffer = DictSequentialBuffer[int](["a", "b"], 2)
        expected = f"Data keys {set(data)} do not match expected keys {buffer.keys}"
        with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
            buffer.add(data)
        assert len(buffer) == 0

    def test_an_agent_reusing_one_dict_never_changes_stored_data(self) -> None:
        buffer = DictSequentialBuffer[int](["x"], 5)
        step = {"x": 0}
        for i in range(3):
            step["x"] = i
            buffer.add(step)
        assert buffer.get_data() == {"x": [0, 1, 2]}

    def test_saves_a_deque_of_plain_dicts(self, tmp_path: Path) -> None:
        buffer = DictSequentialBuffer[int](["a"], 3)
        buffer.add({"a": 1})
        buffer.save_state(tmp_path / "buffer")
        with open(tmp_path / "buffer.pkl", "rb") as f:
            saved = pickle.load(f)
        assert saved == deque([{"a": 1}])
        assert type(saved[0]) is dict

    def test_round_trip(self, tmp_path: Path) -> None:
        buffer = DictSequentialBuffer[int](["a"], 3)
        buffer.add({"a": 1})
        buffer.save_state(tmp_path / "buffer")
        restored = DictSequentialBuffer[int](["a"], 3)
        restored.load_state(tmp_path / "buffer")
        assert restored.get_data() == {"a": [1]}

    def test_save_and_load_are_ordinary_methods_subclasses_can_override(
        self, tmp_path: Path
    ) -> None:
        # 0.6 bound them as instance attributes, silently bypassing overrides.
        calls: list[str] = []

        class Logged(DictSequentialBuffer[int]):
            def save_state(self, path: Path) -> None:
                calls.append("save")
                super().save_state(path)

            def load_state(self, path: Path) -> None:
                calls.append("load")
                super().load_state(path)

        buffer = Logged(["a"], 2)
        buffer.save_state(tmp_path / "b")
        buffer.load_state(tmp_path / "b")
        assert calls == ["save", "load"]
        assert "save_state" not in vars(buffer)
