from collections import UserDict
from pathlib import Path
from typing import Any

import pytest

from pamiq_core.data import (
    DataBuffer,
    DataCollector,
    DataCollectorsDict,
    DataUser,
    DataUsersDict,
    container,
)
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.state_persistence import PersistentStateMixin


def test_exported_from_the_container_module() -> None:
    assert container.DataUsersDict is DataUsersDict
    assert container.DataCollectorsDict is DataCollectorsDict


class TestDataCollectorsDict:
    def test_is_a_user_dict_and_not_persistent(self) -> None:
        collectors = DataCollectorsDict()
        assert isinstance(collectors, UserDict)
        assert not isinstance(collectors, PersistentStateMixin)

    def test_acquire_returns_the_collector(self) -> None:
        collector = DataCollector[int](3)
        assert DataCollectorsDict(a=collector).acquire("a") is collector

    def test_a_collector_can_be_acquired_only_once(self) -> None:
        collectors = DataCollectorsDict(a=DataCollector[int](3))
        collectors.acquire("a")
        with pytest.raises(KeyError, match=r"Data collector 'a' is already acquired\."):
            collectors.acquire("a")

    def test_the_error_names_the_holder_when_known(self) -> None:
        collectors = DataCollectorsDict(a=DataCollector[int](3))
        collectors.acquire("a", owner="agent explorer")
        with pytest.raises(KeyError, match=r"It is held by agent explorer\."):
            collectors.acquire("a", owner="agent planner")

    def test_missing_collector(self) -> None:
        with pytest.raises(KeyError, match=r"Data collector 'x' not found\."):
            DataCollectorsDict().acquire("x")

    def test_plain_indexing_is_not_restricted(self) -> None:
        collector = DataCollector[int](3)
        collectors = DataCollectorsDict(a=collector)
        collectors.acquire("a")
        assert collectors["a"] is collector

    def test_deleting_a_collector_releases_its_name(self) -> None:
        collectors = DataCollectorsDict(a=DataCollector[int](3))
        collectors.acquire("a")
        del collectors["a"]
        fresh = DataCollector[int](3)
        collectors["a"] = fresh
        assert collectors.acquire("a") is fresh

    def test_copy_is_independent(self) -> None:
        collectors = DataCollectorsDict(
            a=DataCollector[int](3), b=DataCollector[int](3)
        )
        collectors.acquire("a")
        copied = collectors.copy()
        assert isinstance(copied, DataCollectorsDict)
        with pytest.raises(KeyError, match="already acquired"):
            copied.acquire("a")
        copied.acquire("b")
        assert collectors.acquire("b") is collectors["b"]


def buffer(size: int = 4) -> SequentialBuffer[Any]:
    return SequentialBuffer[Any](size)


class TestDataUsersDict:
    def test_is_a_persistent_user_dict(self) -> None:
        users = DataUsersDict()
        assert isinstance(users, UserDict)
        assert isinstance(users, PersistentStateMixin)

    def test_companion_dict_is_always_the_same_object(self) -> None:
        users = DataUsersDict()
        assert isinstance(users.data_collectors_dict, DataCollectorsDict)
        assert users.data_collectors_dict is users.data_collectors_dict

    def test_initial_and_later_users_publish_their_collectors(self) -> None:
        a, b, c = DataUser(buffer()), DataUser(buffer()), DataUser(buffer())
        users = DataUsersDict({"a": a}, b=b)
        users["c"] = c
        assert dict(users.data_collectors_dict) == {
            "a": a._collector,
            "b": b._collector,
            "c": c._collector,
        }

    def test_replacing_a_user_replaces_its_collector(self) -> None:
        users = DataUsersDict(a=DataUser(buffer()))
        replacement = DataUser(buffer())
        users["a"] = replacement
        assert users.data_collectors_dict["a"] is replacement._collector

    def test_deleting_a_user_removes_its_collector(self) -> None:
        # 0.6 left the collector behind.
        users = DataUsersDict(a=DataUser(buffer()), b=DataUser(buffer()))
        del users["a"]
        assert list(users.data_collectors_dict) == ["b"]
        users.pop("b")
        assert len(users.data_collectors_dict) == 0

    def test_copy_has_its_own_companion_dict(self) -> None:
        users = DataUsersDict(a=DataUser(buffer()))
        copied = users.copy()
        assert isinstance(copied, DataUsersDict)
        del copied["a"]
        assert "a" in users.data_collectors_dict

    def test_collected_data_reaches_the_user(self) -> None:
        users = DataUsersDict.from_data_buffers(a=buffer())
        users.data_collectors_dict.acquire("a").collect(1)
        assert users["a"].get_data() == [1]

    def test_from_data_buffers_wraps_each_buffer(self) -> None:
        b1, b2, b3 = buffer(), buffer(), buffer()
        users = DataUsersDict.from_data_buffers({"x": b1, "y": b2}, z=b3)
        assert isinstance(users, DataUsersDict)
        assert list(users) == ["x", "y", "z"]
        assert all(isinstance(user, DataUser) for user in users.values())
        assert users["x"]._buffer is b1
        assert users["z"]._buffer is b3

    def test_from_data_buffers_keyword_wins_over_mapping(self) -> None:
        first, second = buffer(), buffer()
        users = DataUsersDict.from_data_buffers({"x": first}, x=second)
        assert users["x"]._buffer is second

    def test_from_data_buffers_with_nothing_is_empty(self) -> None:
        assert len(DataUsersDict.from_data_buffers()) == 0

    def test_from_data_buffers_mapping_is_positional_only(self) -> None:
        # A buffer may be called "buffer_map".
        b = buffer()
        users = DataUsersDict.from_data_buffers(buffer_map=b)
        assert users["buffer_map"]._buffer is b

    def test_from_data_buffers_in_a_subclass_returns_the_subclass(self) -> None:
        class Mine(DataUsersDict):
            pass

        assert type(Mine.from_data_buffers(a=buffer())) is Mine

    def test_state_layout_and_round_trip(self, tmp_path: Path) -> None:
        users = DataUsersDict.from_data_buffers(a=buffer(), b=buffer())
        users.data_collectors_dict["a"].collect(1)
        users.data_collectors_dict["b"].collect(2)
        users.save_state(tmp_path / "data")
        for name in ("a", "b"):
            assert sorted(p.name for p in (tmp_path / "data" / name).iterdir()) == [
                "buffer.pkl",
                "timestamps.pkl",
            ]

        restored = DataUsersDict.from_data_buffers(a=buffer(), b=buffer())
        restored.load_state(tmp_path / "data")
        assert restored["a"].get_data() == [1]
        assert restored["b"].get_data() == [2]

    def test_save_refuses_an_existing_directory(self, tmp_path: Path) -> None:
        (tmp_path / "data").mkdir()
        with pytest.raises(FileExistsError):
            DataUsersDict().save_state(tmp_path / "data")

    def test_accepts_any_data_buffer(self) -> None:
        class Tiny(DataBuffer[int, int]):
            def add(self, data: int) -> None: ...
            def get_data(self) -> int:
                return 0

            def __len__(self) -> int:
                return 0

        users = DataUsersDict.from_data_buffers(t=Tiny(1))
        assert users["t"].get_data() == 0
