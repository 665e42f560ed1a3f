from pathlib import Path
from typing import get_origin

from pamiq_core.interaction import Environment
from pamiq_core.interaction.event_mixin import InteractionEventMixin
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin


class Counter(Environment[int, int]):
    def __init__(self) -> None:
        self.value = 0

    def observe(self) -> int:
        return self.value

    def affect(self, action: int) -> None:
        self.value += action


def test_observe_and_affect_are_the_abstract_methods() -> None:
    assert Environment.__abstractmethods__ == {"observe", "affect"}


def test_has_the_lifecycle_and_state_mixins() -> None:
    for mixin in (InteractionEventMixin, PersistentStateMixin, ThreadEventMixin):
        assert issubclass(Environment, mixin)


def test_is_subscriptable_at_run_time() -> None:
    assert get_origin(Environment[int, str]) is Environment


def test_hooks_do_nothing_and_state_writes_nothing(tmp_path: Path) -> None:
    env = Counter()
    env.affect(2)
    env.setup()
    env.on_paused()
    env.on_resumed()
    env.teardown()
    env.save_state(tmp_path / "env")
    env.load_state(tmp_path / "env")
    assert env.observe() == 2
    assert list(tmp_path.iterdir()) == []
