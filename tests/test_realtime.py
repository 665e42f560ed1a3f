import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pamiq_core import Agent, Environment, Interaction, LaunchConfig, Trainer, launch
from pamiq_core.realtime import frozen_heap, runtime_settings


class Node:
    """An object that can sit in a reference cycle (only the collector frees it)."""

    def __init__(self) -> None:
        self.partner: Node | None = None


def cycle() -> tuple[Node, "weakref.ref[Node]"]:
    """A two-node cycle, and a weak reference that dies when it is collected."""
    a, b = Node(), Node()
    a.partner, b.partner = b, a
    return a, weakref.ref(a)


def is_frozen(obj: object) -> bool:
    """Whether the collector no longer sees ``obj`` (tracked, in no generation)."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


@pytest.fixture(autouse=True)
def unfrozen_heap() -> Iterator[None]:
    gc.unfreeze()  # Python 3.12 starts with a few hundred tuples frozen
    yield
    gc.unfreeze()


class TestFrozenHeap:
    def test_objects_alive_at_entry_are_hidden_from_the_collector_until_exit(
        self,
    ) -> None:
        alive = Node()
        with frozen_heap():
            assert gc.get_freeze_count() > 0
            assert is_frozen(alive)
        assert gc.get_freeze_count() == 0
        assert not is_frozen(alive)

    def test_garbage_at_entry_is_collected_rather_than_frozen(self) -> None:
        node, collected = cycle()
        del node
        with frozen_heap():
            assert collected() is None

    def test_the_collector_still_frees_cycles_made_during_the_block(self) -> None:
        with frozen_heap():
            node, collected = cycle()
            del node
            gc.collect()
            assert collected() is None

    def test_a_frozen_object_that_becomes_cyclic_garbage_is_freed_after_exit(
        self,
    ) -> None:
        node, collected = cycle()
        with frozen_heap():
            del node
            gc.collect()
            assert collected() is not None, "a frozen cycle was walked"
        gc.collect()
        assert collected() is None

    def test_unfreezes_when_the_block_raises(self) -> None:
        frozen_inside: list[int] = []

        def fail_inside() -> None:
            with frozen_heap():
                frozen_inside.append(gc.get_freeze_count())
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_inside()
        assert frozen_inside[0] > 0
        assert gc.get_freeze_count() == 0

    def test_also_unfreezes_at_exit_what_was_frozen_before(self) -> None:
        frozen_by_caller = Node()
        gc.freeze()
        created_after = Node()
        with frozen_heap():
            assert is_frozen(frozen_by_caller)
            assert is_frozen(created_after)
        assert gc.get_freeze_count() == 0
        assert not is_frozen(frozen_by_caller)


class TestRuntimeSettings:
    def test_applies_every_setting_and_restores_them(self) -> None:
        before = sys.getswitchinterval()
        with runtime_settings(0.002, None, gc_freeze=True):
            assert sys.getswitchinterval() == 0.002
            assert gc.get_freeze_count() > 0
        assert sys.getswitchinterval() == before
        assert gc.get_freeze_count() == 0

    def test_restores_every_setting_when_the_block_raises(self) -> None:
        before = sys.getswitchinterval()
        with (
            pytest.raises(RuntimeError, match="boom"),
            runtime_settings(0.002, None, gc_freeze=True),
        ):
            raise RuntimeError("boom")
        assert sys.getswitchinterval() == before
        assert gc.get_freeze_count() == 0

    def test_changes_nothing_when_every_setting_is_off(self) -> None:
        before = sys.getswitchinterval()
        alive = Node()
        with runtime_settings(None, None, gc_freeze=False, preimport_torch=False):
            assert sys.getswitchinterval() == before
            assert gc.get_freeze_count() == 0
            assert not is_frozen(alive)

    def test_preimport_does_not_import_torch_into_a_system_without_it(self) -> None:
        code = (
            "import sys; from pamiq_core.realtime import runtime_settings\n"
            "with runtime_settings(None, 'auto', preimport_torch=True):\n"
            "    print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == "[]", result.stdout


class Recorder:
    """What the collector and the interpreter looked like from a thread."""

    def __init__(self) -> None:
        self.freeze_counts: list[int] = []
        self.switch_intervals: list[float] = []

    def record(self) -> None:
        self.freeze_counts.append(gc.get_freeze_count())
        self.switch_intervals.append(sys.getswitchinterval())


class RecordingAgent(Agent[int, int]):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def setup(self) -> None:
        super().setup()
        self.recorder.record()  # in the inference thread, before the first step

    def step(self, observation: int) -> int:
        return observation


class Constant(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class Finished(Exception):
    """Raised by the trainer once it has recorded: it ends the run at once."""


class RecordingTrainer(Trainer):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def train(self) -> None:
        self.recorder.record()
        raise Finished


def launch_recorded(
    tmp_path: Path,
    in_agent: Recorder,
    in_trainer: Recorder | None = None,
    **config: Any,
) -> None:
    """Launch a small system that records what its agent (and trainer) saw.

    With ``in_trainer``, the trainer records in its first run and raises
    :class:`Finished`, which stops the system; without, the system has no trainer
    and runs for 0.3 s.
    """
    trainers = {} if in_trainer is None else {"t": RecordingTrainer(in_trainer)}
    launch(
        Interaction(RecordingAgent(in_agent), Constant()),
        {},
        {},
        trainers,
        LaunchConfig(
            states_dir=tmp_path, max_uptime=0.3, web_api_address=None, **config
        ),
    )


class TestLaunch:
    def test_freezes_the_heap_while_running_and_unfreezes_after(
        self, tmp_path: Path
    ) -> None:
        in_agent = Recorder()
        launch_recorded(tmp_path, in_agent)
        assert in_agent.freeze_counts[0] > 0
        assert gc.get_freeze_count() == 0

    def test_trains_with_a_frozen_heap_and_restores_everything_after_an_error(
        self, tmp_path: Path
    ) -> None:
        before = sys.getswitchinterval()
        in_agent, in_trainer = Recorder(), Recorder()
        with pytest.raises(Finished):
            launch_recorded(tmp_path, in_agent, in_trainer, switch_interval=0.003)
        assert in_trainer.freeze_counts[0] > 0
        assert in_trainer.switch_intervals == [0.003]
        assert gc.get_freeze_count() == 0
        assert sys.getswitchinterval() == before

    def test_gc_freeze_false_leaves_the_collector_alone(self, tmp_path: Path) -> None:
        in_agent, in_trainer = Recorder(), Recorder()
        with pytest.raises(Finished):
            launch_recorded(tmp_path, in_agent, in_trainer, gc_freeze=False)
        assert in_agent.freeze_counts == [0]
        assert in_trainer.freeze_counts == [0]

    @pytest.mark.parametrize("field", ["gc_freeze", "preimport_torch"])
    def test_a_flag_that_is_not_a_bool_is_refused(self, field: str) -> None:
        wrong: dict[str, Any] = {field: 1}
        with pytest.raises(ValueError, match=f"{field} must be True or False, got 1"):
            LaunchConfig(**wrong)
