"""The three kinds of thread in a running system."""

from enum import Enum, auto


class ThreadTypes(Enum):
    """Which thread a component runs in."""

    CONTROL = auto()
    INFERENCE = auto()
    TRAINING = auto()

    @property
    def thread_name(self) -> str:
        """Lower-case name used in logs: ``control``, ``inference``, ``training``."""
        return self.name.lower()
