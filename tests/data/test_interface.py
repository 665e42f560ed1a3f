import pickle
from collections import deque
from pathlib import Path
from typing import Any

import pytest

import pamiq_core
from pamiq_core import data
from pamiq_core.data import DataBuffer, DataCollector, DataUser, interface
from pamiq_core.data.impls import DictSequentialBuffer, SequentialBuffer
from pamiq_core.data.interface import TimestampingQueue
from pamiq_core.state_persistence import PersistentStateMixin

from .conftest import FakeClock


class RejectingBuffer(DataBuffer[int, list[int]]):
    """Stores ints, but raises on the values listed in ``reject``."""

    def __init__(self, max_queue_size: int, reject: set[int]) -> None:
        super().__init__(max_queue_size)
        self.items: list[int] = []
        self.reject = reject

    def add(self, data: int) -> None:
        if data in self.reject:
            raise RuntimeError(f"rejected {data}")
        self.items.append(data)

    def get_data(self) -> list[int]:
        return list(self.items)

    def __len__(self) -> int:
        return len(self.items)


def pending(collector: DataCollector[Any]) -> list[tuple[Any, float]]:
    queue = collector._move_data()
    return [queue.popleft() for _ in range(len(queue))]


def test_exports() -> None:
    assert pamiq_core.DataCollector is data.DataCollector is interface.DataCollector
    assert pamiq_core.DataUser is data.DataUser is interface.DataUser
    assert interface.TimestampingQueue is TimestampingQueue


class TestTimestampingQueue:
    def test_items_come_out_oldest_first_with_the_time_they_went_in(
        self, clock: FakeClock
    ) -> None:
        queue = TimestampingQueue[str](5)
        clock.now = 10.0
        queue.append("a")
        clock.now = 11.0
        queue.append("b")
        assert len(queue) == 2
        assert queue.popleft() == ("a", 10.0)
        assert queue.popleft() == ("b", 11.0)
        assert len(queue) == 0

    def test_a_full_queue_drops_the_oldest_pair(self, clock: FakeClock) -> None:
        queue = TimestampingQueue[int](2)
        for i in range(3):
            clock.now = float(i)
            queue.append(i)
        assert [queue.popleft(), queue.popleft()] == [(1, 1.0), (2, 2.0)]

    def test_popleft_on_empty_raises_index_error(self) -> None:
        with pytest.raises(IndexError):
            TimestampingQueue[int]().popleft()

    def test_no_bound_by_default(self) -> None:
        queue = TimestampingQueue[int]()
        for i in range(1000):
            queue.append(i)
        assert len(queue) == 1000


class TestDataCollector:
    def test_is_not_persistent(self) -> None:
        assert not isinstance(DataCollector[Any](8), PersistentStateMixin)

    def test_collect_stamps_items_with_pamiq_time(self, clock: FakeClock) -> None:
        collector = DataCollector[int](8)
        clock.now = 5.0
        collector.collect(1)
        clock.now = 6.0
        collector.collect(2)
        assert pending(collector) == [(1, 5.0), (2, 6.0)]

    def test_overflow_drops_the_oldest_pending_item(self, clock: FakeClock) -> None:
        collector = DataCollector[int](2)
        for i in range(4):
            collector.collect(i)
        assert [item for item, _ in pending(collector)] == [2, 3]

    def test_move_data_hands_over_the_queue_and_leaves_an_empty_one(self) -> None:
        collector = DataCollector[int](3)
        collector.collect(1)
        moved = collector._move_data()
        assert len(moved) == 1
        assert len(collector._move_data()) == 0
        collector.collect(2)
        assert len(moved) == 1  # later items never reach a moved queue

    def test_the_fresh_queue_keeps_the_bound(self) -> None:
        collector = DataCollector[int](2)
        collector._move_data()
        for i in range(5):
            collector.collect(i)
        assert [item for item, _ in pending(collector)] == [3, 4]

    @pytest.mark.parametrize("size", [0, -1])
    def test_a_bound_that_cannot_hold_anything_is_rejected(self, size: int) -> None:
        with pytest.raises(ValueError, match="max_queue_size must be positive"):
            DataCollector[int](size)

    def test_none_means_unbounded(self) -> None:
        collector = DataCollector[int](None)
        for i in range(100):
            collector.collect(i)
        assert len(pending(collector)) == 100


class TestDataUser:
    def test_creates_a_collector_bounded_like_the_buffer(self) -> None:
        user = DataUser(SequentialBuffer[int](3))
        for i in range(5):
            user._collector.collect(i)
        user.update()
        assert user.get_data() == [2, 3, 4]

    def test_is_persistent(self) -> None:
        assert isinstance(DataUser(SequentialBuffer[int](1)), PersistentStateMixin)

    def test_exposes_its_buffer_for_direct_reads(self) -> None:
        buffer = SequentialBuffer[int](3)
        user = DataUser(buffer)
        user._collector.collect(7)
        assert user.buffer is buffer
        assert len(user.buffer) == 0  # pending until update()
        user.update()
        assert user.buffer.get_data() == [7]

    def test_subscriptable_at_run_time(self) -> None:
        user = DataUser[list[int]](SequentialBuffer[int](1))
        assert type(user) is DataUser
        assert type(DataCollector[Any](8)) is DataCollector
        assert type(TimestampingQueue[int](5)) is TimestampingQueue

    def test_update_moves_pending_items_into_the_buffer_oldest_first(self) -> None:
        buffer = SequentialBuffer[int](10)
        user = DataUser(buffer)
        for i in range(3):
            user._collector.collect(i)
        assert len(user) == 0  # nothing moves until the trainer updates
        user.update()
        assert buffer.get_data() == [0, 1, 2]
        assert len(user) == 3

    def test_get_data_updates_first(self) -> None:
        user = DataUser(SequentialBuffer[int](10))
        user._collector.collect(7)
        assert user.get_data() == [7]

    def test_count_data_added_since_follows_the_spec_example(
        self, clock: FakeClock
    ) -> None:
        user = DataUser(SequentialBuffer[int](10))
        for t in (100.0, 101.0, 102.0, 103.0):
            clock.now = t
            user._collector.collect(int(t))
        clock.now = 200.0  # the time of the move does not matter
        user.update()
        assert user.count_data_added_since(99.0) == 4
        assert user.count_data_added_since(100.5) == 3
        assert user.count_data_added_since(102.5) == 1
        assert user.count_data_added_since(103.0) == 0
        assert user.count_data_added_since(104.0) == 0

    def test_count_does_not_update(self, clock: FakeClock) -> None:
        user = DataUser(SequentialBuffer[int](10))
        user._collector.collect(1)
        assert user.count_data_added_since(float("-inf")) == 0

    def test_count_is_capped_by_the_timestamp_window(self, clock: FakeClock) -> None:
        user = DataUser(SequentialBuffer[int](3))
        for i in range(3):
            clock.now = float(i)
            user._collector.collect(i)
            user.update()
        clock.now = 3.0
        user._collector.collect(3)
        user.update()
        assert user.count_data_added_since(float("-inf")) == 3

    def test_items_the_buffer_discards_still_count(self, clock: FakeClock) -> None:
        class Discarding(SequentialBuffer[int]):
            def add(self, data: int) -> None:
                pass

        user = DataUser(Discarding(5))
        user._collector.collect(1)
        user.update()
        assert len(user) == 0
        assert user.count_data_added_since(float("-inf")) == 1


class TestUpdateWhenTheBufferRaises:
    """0.6 lost the rest of the batch; we keep what the buffer has not seen."""

    def test_the_error_propagates(self) -> None:
        user = DataUser(RejectingBuffer(10, reject={2}))
        for i in range(4):
            user._collector.collect(i)
        with pytest.raises(RuntimeError, match="rejected 2"):
            user.update()

    def test_items_before_are_added_and_items_after_stay_queued(
        self, clock: FakeClock
    ) -> None:
        buffer = RejectingBuffer(10, reject={2})
        user = DataUser(buffer)
        for i in range(5):
            clock.now = float(i)
            user._collector.collect(i)
        with pytest.raises(RuntimeError):
            user.update()
        assert buffer.items == [0, 1]
        assert user.count_data_added_since(float("-inf")) == 2
        # The rejected item is dropped (else it would fail every later update);
        # the rest keep their collection times.
        assert pending(user._collector) == [(3, 3.0), (4, 4.0)]

    def test_items_put_back_go_ahead_of_items_collected_meanwhile(self) -> None:
        collected_meanwhile = [100, 101]

        class CollectsDuringAdd(RejectingBuffer):
            def add(self, data: int) -> None:
                # Another thread collects while the batch is being added.
                while collected_meanwhile:
                    user._collector.collect(collected_meanwhile.pop(0))
                super().add(data)

        buffer = CollectsDuringAdd(10, reject={1})
        user = DataUser(buffer)
        for i in range(4):
            user._collector.collect(i)
        with pytest.raises(RuntimeError):
            user.update()
        user.update()
        assert buffer.items == [0, 2, 3, 100, 101]

    def test_putting_back_respects_the_bound_by_dropping_the_oldest(self) -> None:
        class CollectsDuringAdd(RejectingBuffer):
            def add(self, data: int) -> None:
                if data == 0:
                    for i in (100, 101):
                        user._collector.collect(i)
                super().add(data)

        buffer = CollectsDuringAdd(3, reject={1})
        user = DataUser(buffer)
        for i in range(3):
            user._collector.collect(i)
        with pytest.raises(RuntimeError):
            user.update()
        # Waiting: 2 (put back) then 100, 101 -> fits the bound of 3 exactly.
        assert [item for item, _ in pending(user._collector)] == [2, 100, 101]

    def test_overflow_after_putting_back_drops_put_back_items_first(self) -> None:
        class CollectsDuringAdd(RejectingBuffer):
            def add(self, data: int) -> None:
                if data == 0:
                    for i in (100, 101):
                        user._collector.collect(i)
                super().add(data)

        buffer = CollectsDuringAdd(3, reject={0})
        user = DataUser(buffer)
        for i in range(3):
            user._collector.collect(i)
        with pytest.raises(RuntimeError):
            user.update()
        # 1, 2 put back, 100, 101 newer: the bound of 3 keeps the newest three.
        assert [item for item, _ in pending(user._collector)] == [2, 100, 101]

    def test_a_dict_buffer_key_mismatch_is_refused_at_collect(self) -> None:
        buffer = DictSequentialBuffer[int](["a"], 10)
        user = DataUser(buffer)
        user._collector.collect({"a": 1})
        with pytest.raises(ValueError, match="expects items with keys 'a'"):
            user._collector.collect({"b": 2})
        user._collector.collect({"a": 3})
        user.update()
        assert buffer.get_data() == {"a": [1, 3]}

    def test_interrupts_are_handled_like_errors(self) -> None:
        class Interrupting(RejectingBuffer):
            def add(self, data: int) -> None:
                if data == 1:
                    raise KeyboardInterrupt
                super().add(data)

        buffer = Interrupting(10, reject=set())
        user = DataUser(buffer)
        for i in range(3):
            user._collector.collect(i)
        with pytest.raises(KeyboardInterrupt):
            user.update()
        user.update()
        assert buffer.items == [0, 2]


class TestDataUserState:
    def test_save_updates_then_writes_buffer_and_timestamps(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        user = DataUser(SequentialBuffer[int](5))
        for t in (1.0, 2.0):
            clock.now = t
            user._collector.collect(int(t))
        user.save_state(tmp_path / "user")
        assert sorted(p.name for p in (tmp_path / "user").iterdir()) == [
            "buffer.pkl",
            "timestamps.pkl",
        ]
        with open(tmp_path / "user" / "timestamps.pkl", "rb") as f:
            timestamps = pickle.load(f)
        assert isinstance(timestamps, deque)
        assert list(timestamps) == [1.0, 2.0]
        with open(tmp_path / "user" / "buffer.pkl", "rb") as f:
            assert list(pickle.load(f)) == [1, 2]

    def test_save_refuses_an_existing_directory(self, tmp_path: Path) -> None:
        user = DataUser(SequentialBuffer[int](5))
        (tmp_path / "user").mkdir()
        with pytest.raises(FileExistsError):
            user.save_state(tmp_path / "user")

    def test_round_trip(self, tmp_path: Path, clock: FakeClock) -> None:
        user = DataUser(SequentialBuffer[int](5))
        for t in (1.0, 2.0, 3.0):
            clock.now = t
            user._collector.collect(int(t))
        user.save_state(tmp_path / "user")

        restored = DataUser(SequentialBuffer[int](5))
        restored.load_state(tmp_path / "user")
        assert restored.get_data() == [1, 2, 3]
        assert restored.count_data_added_since(1.5) == 2

    def test_load_keeps_the_newest_timestamps_that_fit(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        big = DataUser(SequentialBuffer[int](5))
        for t in range(5):
            clock.now = float(t)
            big._collector.collect(t)
        big.save_state(tmp_path / "user")

        small = DataUser(SequentialBuffer[int](2))
        small.load_state(tmp_path / "user")
        assert small.get_data() == [3, 4]
        assert small.count_data_added_since(float("-inf")) == 2
        assert small.count_data_added_since(3.5) == 1

    def test_load_leaves_pending_items_alone(self, tmp_path: Path) -> None:
        user = DataUser(SequentialBuffer[int](5))
        user._collector.collect(1)
        user.save_state(tmp_path / "user")
        user._collector.collect(2)
        user.load_state(tmp_path / "user")
        assert user.get_data() == [1, 2]

    def test_a_buffer_without_persistence_leaves_only_timestamps(
        self, tmp_path: Path
    ) -> None:
        user = DataUser(RejectingBuffer(5, reject=set()))
        user.save_state(tmp_path / "user")
        assert [p.name for p in (tmp_path / "user").iterdir()] == ["timestamps.pkl"]
