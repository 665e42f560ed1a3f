"""The world an agent acts in."""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Generic, TypeVar

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.tracking import SystemEventMixin, TrackingMixin

from .event_mixin import InteractionEventMixin, PartsForwardingMixin

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Environment(
    ABC,
    InteractionEventMixin,
    PersistentStateMixin,
    ThreadEventMixin,
    TrackingMixin,
    SystemEventMixin,
    Generic[ObsType, ActType],
):
    """Something an agent observes and acts on.

    Subclasses implement :meth:`observe` and :meth:`affect`. The lifecycle hooks
    (``setup``, ``teardown``, ``on_paused``, ``on_resumed``) and ``save_state`` /
    ``load_state`` do nothing unless overridden. In a running system every method
    except the state methods runs in the inference thread. :meth:`log_scalar` logs
    under ``environment/`` at the system's inference step count; an environment
    wrapped in another shares that name and gets its own system hooks.
    """

    @abstractmethod
    def observe(self) -> ObsType:
        """Return the current observation."""

    @abstractmethod
    def affect(self, action: ActType) -> None:
        """Apply ``action`` to the environment."""

    @override
    def _system_parts(self) -> Iterable[tuple[str, SystemEventMixin]]:
        # Wrappers and modular environments forward hooks to their parts; the
        # environments among them (a wrapped env) are the same world, one name.
        if not isinstance(self, PartsForwardingMixin):
            return ()
        parts: list[tuple[str, SystemEventMixin]] = [
            ("", part)
            for _, part in self._hooked_parts()  # pyright: ignore[reportPrivateUsage]
            if isinstance(part, SystemEventMixin)
        ]
        return parts
