"""Environments assembled from a sensor and an actuator.

A :class:`ModularEnvironment` observes through a :class:`Sensor` and acts through an
:class:`Actuator`. :class:`SensorsDict` and :class:`ActuatorsDict` combine named parts
into one, and they nest. Lifecycle hooks and state reach every part.
"""

from abc import ABC, abstractmethod
from collections import UserDict
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.utils.checks import require_instance
from pamiq_core.utils.naming import UnknownNameError, close_matches, quoted

from .env import Environment
from .event_mixin import HookedPart, InteractionEventMixin, PartsForwardingMixin

T = TypeVar("T")
ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Sensor(
    ABC, InteractionEventMixin, PersistentStateMixin, ThreadEventMixin, Generic[T]
):
    """Reads one kind of observation from the world."""

    @abstractmethod
    def read(self) -> T:
        """Return the current reading."""


class Actuator(
    ABC, InteractionEventMixin, PersistentStateMixin, ThreadEventMixin, Generic[T]
):
    """Applies one kind of action to the world.

    Releasing held inputs: an actuator whose effect lasts beyond :meth:`operate` (a
    pressed key, a held button, a motor command that stays on) should release it in
    ``on_paused`` and in ``teardown``. The system may stay paused for a long time
    and the world must not see the agent's last command held all that while. There
    is no need to restore it in ``on_resumed``: the agent's next action sets it again.
    The base class does nothing in these hooks; every container and wrapper forwards
    them, so an actuator receives them however deeply it is nested.
    """

    @abstractmethod
    def operate(self, action: T) -> None:
        """Apply ``action``."""


class ModularEnvironment(PartsForwardingMixin, Environment[ObsType, ActType]):
    """An environment that observes with ``sensor`` and acts with ``actuator``.

    Hooks reach the sensor, then the actuator. On disk, ``save_state(path)``
    creates the directory ``path`` holding ``sensor`` and ``actuator`` entries
    (whatever those parts write).
    """

    _init_marker: ClassVar[str | None] = "sensor"

    def __init__(self, sensor: Sensor[ObsType], actuator: Actuator[ActType]) -> None:
        """Combine ``sensor`` and ``actuator`` into an environment.

        Raises:
            TypeError: If ``sensor`` is certainly not a sensor or ``actuator`` not
                an actuator (for example, swapped, or dicts of them: use
                :meth:`from_dict` for those).
        """
        name = type(self).__name__
        if isinstance(sensor, Mapping) or isinstance(actuator, Mapping):
            hint = f"For named sensors and actuators use {name}.from_dict(sensors, actuators)."
        elif isinstance(sensor, Actuator) and isinstance(actuator, Sensor):
            hint = f"The order is {name}(sensor, actuator)."
        else:
            hint = ""
        require_instance(sensor, Sensor, f"{name}(sensor=...)", hint, ("read",))
        require_instance(
            actuator, Actuator, f"{name}(actuator=...)", hint, ("operate",)
        )
        self.sensor = sensor
        self.actuator = actuator

    @override
    def observe(self) -> ObsType:
        """Read the sensor."""
        return self.sensor.read()

    @override
    def affect(self, action: ActType) -> None:
        """Operate the actuator."""
        self.actuator.operate(action)

    @staticmethod
    def from_dict(
        sensors: Mapping[str, Sensor[Any]], actuators: Mapping[str, Actuator[Any]]
    ) -> "ModularEnvironment[Mapping[str, Any], Mapping[str, Any]]":
        """Build an environment from named sensors and actuators.

        Observations are dicts of readings by sensor name; actions are mappings of
        actions by actuator name. Always returns a :class:`ModularEnvironment`,
        even when called on a subclass.
        """
        return ModularEnvironment(SensorsDict(sensors), ActuatorsDict(actuators))

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return (("sensor", self.sensor), ("actuator", self.actuator))


class SensorsDict(
    PartsForwardingMixin, Sensor[Mapping[str, Any]], UserDict[str, Sensor[Any]]
):
    """Named sensors read together; itself a sensor.

    Constructed like a dict. Hooks reach the sensors in key order. On disk,
    ``save_state(path)`` creates the directory ``path`` (even when empty) holding
    one entry per sensor name.
    """

    _init_marker: ClassVar[str | None] = "data"

    @override
    def __setitem__(self, key: str, item: Sensor[Any]) -> None:
        """Store ``item`` under ``key``.

        Raises:
            TypeError: If ``item`` is certainly not a sensor.
        """
        require_instance(
            item, Sensor, f"{type(self).__name__}[{key!r}]", needs=("read",)
        )
        self.data[key] = item

    @override
    def read(self) -> dict[str, Any]:
        """Return a new dict of every sensor's reading, in key order."""
        return {name: sensor.read() for name, sensor in self.data.items()}

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return self.data.items()


class ActuatorsDict(
    PartsForwardingMixin, Actuator[Mapping[str, Any]], UserDict[str, Actuator[Any]]
):
    """Named actuators operated together; itself an actuator.

    Constructed like a dict. Hooks, including ``on_paused`` (see :class:`Actuator`
    on releasing held inputs), reach the actuators in key order. On disk,
    ``save_state(path)`` creates the directory ``path`` (even when empty) holding
    one entry per actuator name.
    """

    _init_marker: ClassVar[str | None] = "data"

    @override
    def __setitem__(self, key: str, item: Actuator[Any]) -> None:
        """Store ``item`` under ``key``.

        Raises:
            TypeError: If ``item`` is certainly not an actuator.
        """
        require_instance(
            item, Actuator, f"{type(self).__name__}[{key!r}]", needs=("operate",)
        )
        self.data[key] = item

    @override
    def operate(self, action: Mapping[str, Any]) -> None:
        """Operate each actuator, in key order, with ``action[<its name>]``.

        Keys of ``action`` that name no actuator are ignored.

        Raises:
            KeyError: If ``action`` lacks an actuator's name. Actuators before it
                in key order have already been operated.
        """
        name = ""
        try:
            for name, actuator in self.data.items():
                actuator.operate(action[name])
        except (KeyError, TypeError) as error:
            # Checked only on failure, so that a step pays nothing for it.
            if not isinstance(cast(object, action), Mapping):
                raise TypeError(
                    f"{type(self).__name__}.operate takes a mapping of actions by "
                    f"actuator name ({quoted(self.data)}); got "
                    f"{type(action).__name__}: {action!r:.80}."
                ) from error
            if isinstance(error, TypeError) or name in action:
                raise  # raised by the actuator itself
            raise _missing_action_error(name, action, self.data) from None

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return self.data.items()


def _missing_action_error(
    name: str, action: Mapping[str, Any], actuators: Mapping[str, Any]
) -> KeyError:
    """The error for an action mapping without an entry for actuator ``name``."""
    message = (
        f"The action has no entry for actuator {name!r}: ActuatorsDict.operate "
        f"needs one per actuator ({quoted(actuators)}); the action has "
        f"{quoted(str(k) for k in action)}."
    )
    matches = close_matches(name, [str(k) for k in action if k not in actuators])
    if matches:
        message += f" Is {matches[0]!r} meant to be {name!r}?"
    return UnknownNameError(message)
