from pathlib import Path
from typing import Any

import pytest

import pamiq_core
from pamiq_core.data import DataBuffer, buffer
from pamiq_core.state_persistence import PersistentStateMixin


class ListBuffer(DataBuffer[int, list[int]]):
    def __init__(self, max_queue_size: int | None = None) -> None:
        super().__init__(max_queue_size)
        self.items: list[int] = []

    def add(self, data: int) -> None:
        self.items.append(data)

    def get_data(self) -> list[int]:
        return list(self.items)

    def __len__(self) -> int:
        return len(self.items)


def test_is_exported_where_the_spec_says() -> None:
    assert pamiq_core.DataBuffer is DataBuffer
    assert buffer.DataBuffer is DataBuffer


def test_abstract_methods_are_exactly_add_get_data_len() -> None:
    assert DataBuffer.__abstractmethods__ == {"add", "get_data", "__len__"}


def test_is_persistent_with_no_op_state_by_default(tmp_path: Path) -> None:
    buf = ListBuffer(3)
    assert isinstance(buf, PersistentStateMixin)
    buf.save_state(tmp_path / "buffer")
    buf.load_state(tmp_path / "buffer")
    assert list(tmp_path.iterdir()) == []


def test_max_queue_size_is_a_read_only_property() -> None:
    buf = ListBuffer(3)
    assert buf.max_queue_size == 3
    with pytest.raises(AttributeError):
        buf.max_queue_size = 4  # pyright: ignore[reportAttributeAccessIssue]


def test_subscripting_gives_a_constructible_class() -> None:
    class Generic(DataBuffer[Any, Any]):
        def add(self, data: Any) -> None: ...
        def get_data(self) -> Any: ...
        def __len__(self) -> int:
            return 0

    assert DataBuffer[int, list[int]] is not None
    assert isinstance(ListBuffer(1), DataBuffer)
    assert len(Generic(2)) == 0


def test_negative_max_queue_size_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^max_queue_size must be non-negative"):
        ListBuffer(-1)


def test_zero_max_queue_size_is_rejected_because_it_would_drop_everything() -> None:
    # 0.6 accepted 0 and then silently discarded every collected item.
    with pytest.raises(ValueError, match="max_queue_size must be positive"):
        ListBuffer(0)


def test_unbounded_queue_warns_and_still_constructs() -> None:
    with pytest.warns(RuntimeWarning, match=r"^max_queue_size is None") as record:
        buf = ListBuffer(None)
    assert buf.max_queue_size is None
    assert "memory" in str(record[0].message)


def test_the_warning_points_at_the_caller_of_the_base_initialiser() -> None:
    with pytest.warns(RuntimeWarning) as record:
        ListBuffer()
    # stacklevel=2: the frame that called DataBuffer.__init__ (the subclass).
    assert record[0].filename == __file__
