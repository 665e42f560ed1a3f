"""An item with the wrong keys fails at ``collect()``, in the agent, naming the buffer.

It used to be accepted by the collector and rejected later by the buffer, in the
training thread, with a traceback that never pointed at the agent.
"""

import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pamiq_core.data import DataBuffer, DataUser, DataUsersDict
from pamiq_core.data.impls import (
    DictRandomReplacementBuffer,
    DictRingBuffer,
    DictSequentialBuffer,
    SequentialBuffer,
)
from pamiq_core.testing import connect_components, create_mock_buffer

from .parts import BanditAgent, run

DICT_BUFFERS: dict[str, Callable[[], DataBuffer[Any, Any]]] = {
    "DictSequentialBuffer": lambda: DictSequentialBuffer[float](
        ["arm", "reward"], max_size=100
    ),
    "DictRandomReplacementBuffer": lambda: DictRandomReplacementBuffer[float](
        ["arm", "reward"], max_size=100
    ),
    "DictRingBuffer": lambda: DictRingBuffer(
        {"arm": ((), np.int64), "reward": ((), np.float64)}, max_size=100
    ),
}


class MisspeltAgent(BanditAgent):
    def transition(self, arm: int) -> Mapping[str, float]:
        return {"arm": arm, "rewrd": 0.0}


@pytest.mark.parametrize("make", DICT_BUFFERS.values(), ids=DICT_BUFFERS.keys())
def test_a_misspelt_key_fails_in_the_agents_step(
    tmp_path: Path, make: Callable[[], DataBuffer[Any, Any]]
) -> None:
    buffer = make()
    with pytest.raises(ValueError, match="expects items") as raised:
        run(tmp_path, agent=MisspeltAgent(), buffers={"pulls": buffer})
    assert str(raised.value) == (
        f"{type(buffer).__name__} 'pulls' expects items with keys 'arm', 'reward'; "
        "collect() got keys 'arm', 'rewrd': missing 'reward', unexpected 'rewrd' "
        "('rewrd': did you mean 'reward'?)."
    )
    # The traceback ends in the agent's step, at its collect() call.
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert [frame.name for frame in frames[-2:]] == ["step", "collect"]
    assert frames[-2].line == "self.pulls.collect(self.transition(arm))"


@pytest.mark.parametrize("make", DICT_BUFFERS.values(), ids=DICT_BUFFERS.keys())
def test_a_missing_and_an_extra_key(make: Callable[[], DataBuffer[Any, Any]]) -> None:
    collector = DataUser(make())._collector
    with pytest.raises(ValueError, match=r"missing 'reward', unexpected 'done'\."):
        collector.collect({"arm": 1, "done": True})
    with pytest.raises(ValueError, match=r"got keys 'arm': missing 'reward'\."):
        collector.collect({"arm": 1})


def test_an_item_that_is_not_a_dict() -> None:
    collector = DataUser(DICT_BUFFERS["DictSequentialBuffer"]())._collector
    with pytest.raises(TypeError) as raised:
        collector.collect((1, 0.5))
    assert str(raised.value) == (
        "DictSequentialBuffer expects dict items with keys 'arm', 'reward'; "
        "collect() got a tuple: (1, 0.5)."
    )


def test_the_buffer_is_named_by_its_class_outside_a_system() -> None:
    collector = DataUser(DICT_BUFFERS["DictRingBuffer"]())._collector
    with pytest.raises(ValueError, match=r"^DictRingBuffer expects items"):
        collector.collect({"arm": 1})


def test_good_items_of_any_mapping_type_go_through() -> None:
    class Transition(Mapping[str, float]):
        def __init__(self, **values: float) -> None:
            self.fields = values

        def __getitem__(self, key: str) -> float:
            return self.fields[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self.fields)

        def __len__(self) -> int:
            return len(self.fields)

    users = DataUsersDict.from_data_buffers(
        pulls=DICT_BUFFERS["DictSequentialBuffer"]()
    )
    collector = users.data_collectors_dict["pulls"]
    collector.collect({"reward": 1.0, "arm": 2})
    collector.collect(Transition(arm=0, reward=0.0))
    assert users["pulls"].get_data() == {"arm": [2, 0], "reward": [1.0, 0.0]}


def test_a_rejected_item_never_reaches_the_queue() -> None:
    users = DataUsersDict.from_data_buffers(
        pulls=DICT_BUFFERS["DictSequentialBuffer"]()
    )
    collector = users.data_collectors_dict["pulls"]
    with pytest.raises(ValueError, match="expects items"):
        collector.collect({"arm": 1})
    users["pulls"].update()
    assert len(users["pulls"]) == 0


class TestOwnBuffers:
    def test_a_buffer_declares_its_keys_with_item_keys(self) -> None:
        class Pairs(SequentialBuffer[Any]):
            def item_keys(self) -> frozenset[str]:
                return frozenset({"x", "y"})

        users = DataUsersDict.from_data_buffers(points=Pairs(10))
        with pytest.raises(
            ValueError,
            match=r"Pairs 'points' expects items with "
            r"keys 'x', 'y'",
        ):
            users.data_collectors_dict["points"].collect({"x": 1})

    def test_a_dict_buffer_can_opt_out(self) -> None:
        class Loose(DictSequentialBuffer[Any]):
            def item_keys(self) -> None:
                return None

        user = DataUser(Loose(["a"], 10))
        user._collector.collect({"b": 1})  # checked by add() only, as in 0.6
        with pytest.raises(ValueError, match="do not match"):
            user.update()

    def test_buffers_without_keys_accept_anything(self) -> None:
        user = DataUser(SequentialBuffer[Any](10))
        for item in ({"a": 1}, (1, 2), None, "text"):
            user._collector.collect(item)
        assert len(user.get_data()) == 4

    def test_a_mock_buffer_accepts_anything(self) -> None:
        agent = BanditAgent()
        connected = connect_components(buffers={"pulls": create_mock_buffer(10)})
        agent.attach_data_collectors(connected.data_collectors)
        agent.pulls.collect({"anything": 1})


def test_a_single_string_as_keys_is_refused_naming_the_letters() -> None:
    import pytest

    from pamiq_core.data.impls import DictSequentialBuffer

    with pytest.raises(TypeError, match=r"\['obs'\].*'b', 'o', 's'"):
        DictSequentialBuffer("obs", 100)
