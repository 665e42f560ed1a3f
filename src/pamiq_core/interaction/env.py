"""The world an agent acts in."""

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin

from .event_mixin import InteractionEventMixin

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Environment(
    ABC,
    InteractionEventMixin,
    PersistentStateMixin,
    ThreadEventMixin,
    Generic[ObsType, ActType],
):
    """Something an agent observes and acts on.

    Subclasses implement :meth:`observe` and :meth:`affect`. The lifecycle hooks
    (``setup``, ``teardown``, ``on_paused``, ``on_resumed``) and ``save_state`` /
    ``load_state`` do nothing unless overridden. In a running system every method
    except the state methods runs in the inference thread.
    """

    @abstractmethod
    def observe(self) -> ObsType:
        """Return the current observation."""

    @abstractmethod
    def affect(self, action: ActType) -> None:
        """Apply ``action`` to the environment."""
