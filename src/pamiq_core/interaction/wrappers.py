"""Transform observations and actions on their way between agent and world.

A :class:`Wrapper` is a function with lifecycle hooks and state. Wrappers apply to a
whole :class:`~pamiq_core.interaction.env.Environment` (:class:`EnvironmentWrapper`),
a sensor (:class:`SensorWrapper`) or an actuator (:class:`ActuatorWrapper`). Where a
wrapper is expected, a plain callable also works: it is wrapped in a
:class:`LambdaWrapper`. Hooks and state reach both the wrapped part and the wrapper.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import ClassVar, Generic, TypeVar, cast

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.utils.checks import describe, require_instance
from pamiq_core.utils.init_check import InitChecked

from .env import Environment
from .event_mixin import HookedPart, InteractionEventMixin, PartsForwardingMixin
from .modular_env import Actuator, Sensor

T = TypeVar("T")
W = TypeVar("W")
ObsType = TypeVar("ObsType")
WrappedObsType = TypeVar("WrappedObsType")
ActType = TypeVar("ActType")
WrappedActType = TypeVar("WrappedActType")


class Wrapper(
    ABC,
    InteractionEventMixin,
    PersistentStateMixin,
    ThreadEventMixin,
    InitChecked,
    Generic[T, W],
):
    """Turns a ``T`` into a ``W``; calling the wrapper calls :meth:`wrap`."""

    @abstractmethod
    def wrap(self, value: T) -> W:
        """Transform ``value``."""

    def __call__(self, value: T) -> W:
        """Transform ``value`` with :meth:`wrap`."""
        return self.wrap(value)

    def wrap_sensor(self, sensor: Sensor[T]) -> "SensorWrapper[T, W]":
        """Return a sensor that reads ``sensor`` and transforms the readings."""
        return SensorWrapper(sensor, self)

    def wrap_actuator(self, actuator: Actuator[W]) -> "ActuatorWrapper[W, T]":
        """Return an actuator that transforms actions with :meth:`wrap` for ``actuator``.

        The result takes ``T`` actions and passes ``wrap(action)`` to ``actuator``.
        This is the same forward transform as :meth:`wrap_sensor` uses, not an
        inverse (as in PAMIQ-Core 0.6).
        """
        return ActuatorWrapper(actuator, self)


class LambdaWrapper(Wrapper[T, W]):
    """A stateless wrapper around a plain function."""

    _init_marker: ClassVar[str | None] = "_func"

    def __init__(self, func: Callable[[T], W]) -> None:
        """Wrap values with ``func``.

        Raises:
            TypeError: If ``func`` is not callable.
        """
        _require_callable(func, f"{type(self).__name__}(func=...)")
        self._func = func

    @override
    def wrap(self, value: T) -> W:
        """Return ``func(value)``."""
        return self._func(value)


def _wrapper_class_name(func: object) -> str | None:
    """The name of ``func`` if it is a Wrapper class (callable, but it would not wrap)."""
    if isinstance(func, type) and issubclass(func, Wrapper):
        return func.__name__
    return None


def _require_callable(func: object, where: str) -> None:
    class_name = _wrapper_class_name(func)
    if class_name is None and callable(func):
        return
    hint = "" if class_name is None else f" Create one: {class_name}(...)."
    raise TypeError(
        f"{where} must be a Wrapper or a function of one value; got "
        f"{describe(func)}.{hint}"
    )


def _as_wrapper(wrapper: Wrapper[T, W] | Callable[[T], W], where: str) -> Wrapper[T, W]:
    """Use a wrapper as is; wrap anything else in a :class:`LambdaWrapper`.

    Raises:
        TypeError: If ``wrapper`` is neither a wrapper nor callable.
    """
    if isinstance(wrapper, Wrapper):
        return cast("Wrapper[T, W]", wrapper)
    _require_callable(wrapper, where)
    return LambdaWrapper(wrapper)


class EnvironmentWrapper(
    PartsForwardingMixin,
    Environment[WrappedObsType, WrappedActType],
    Generic[ObsType, WrappedObsType, ActType, WrappedActType],
):
    """An environment seen through an observation and an action transform.

    Hooks reach ``env``, then the observation wrapper, then the action wrapper. On
    disk, ``save_state(path)`` creates the directory ``path`` holding ``env``,
    ``obs_wrapper`` and ``act_wrapper`` entries.
    """

    _init_marker: ClassVar[str | None] = "_obs_wrapper"

    def __init__(
        self,
        env: Environment[ObsType, ActType],
        obs_wrapper: Wrapper[ObsType, WrappedObsType]
        | Callable[[ObsType], WrappedObsType],
        act_wrapper: Wrapper[WrappedActType, ActType]
        | Callable[[WrappedActType], ActType],
    ) -> None:
        """Wrap ``env``.

        Args:
            env: The wrapped environment.
            obs_wrapper: Transforms ``env``'s observations for the agent.
            act_wrapper: Transforms the agent's actions for ``env``.
        """
        name = type(self).__name__
        require_instance(
            env, Environment, f"{name}(env=...)", needs=("observe", "affect")
        )
        self.env = env
        self._obs_wrapper = _as_wrapper(obs_wrapper, f"{name}(obs_wrapper=...)")
        self._act_wrapper = _as_wrapper(act_wrapper, f"{name}(act_wrapper=...)")

    @override
    def observe(self) -> WrappedObsType:
        """Observe ``env`` and transform the observation."""
        return self._obs_wrapper(self.env.observe())

    @override
    def affect(self, action: WrappedActType) -> None:
        """Transform ``action`` and apply it to ``env``."""
        self.env.affect(self._act_wrapper(action))

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return (
            ("env", self.env),
            ("obs_wrapper", self._obs_wrapper),
            ("act_wrapper", self._act_wrapper),
        )


class SensorWrapper(PartsForwardingMixin, Sensor[W], Generic[T, W]):
    """A sensor whose readings pass through a wrapper.

    Hooks reach the sensor, then the wrapper. On disk, ``save_state(path)`` creates
    the directory ``path`` holding ``sensor`` and ``wrapper`` entries.
    """

    _init_marker: ClassVar[str | None] = "_wrapper"

    def __init__(self, sensor: Sensor[T], wrapper: Wrapper[T, W] | Callable[[T], W]):
        """Read ``sensor`` and transform its readings with ``wrapper``."""
        name = type(self).__name__
        require_instance(sensor, Sensor, f"{name}(sensor=...)", needs=("read",))
        self.sensor = sensor
        self._wrapper = _as_wrapper(wrapper, f"{name}(wrapper=...)")

    @override
    def read(self) -> W:
        """Read the sensor and transform the reading."""
        return self._wrapper(self.sensor.read())

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return (("sensor", self.sensor), ("wrapper", self._wrapper))


class ActuatorWrapper(PartsForwardingMixin, Actuator[W], Generic[T, W]):
    """An actuator whose actions pass through a wrapper first.

    Hooks reach the actuator, then the wrapper: ``on_paused`` and ``teardown`` too,
    so the actuator can release held inputs (see :class:`~pamiq_core.interaction.modular_env.Actuator`).
    On disk, ``save_state(path)`` creates the directory ``path`` holding
    ``actuator`` and ``wrapper`` entries.
    """

    _init_marker: ClassVar[str | None] = "_wrapper"

    def __init__(
        self, actuator: Actuator[T], wrapper: Wrapper[W, T] | Callable[[W], T]
    ) -> None:
        """Transform actions with ``wrapper`` and pass them to ``actuator``."""
        name = type(self).__name__
        require_instance(
            actuator, Actuator, f"{name}(actuator=...)", needs=("operate",)
        )
        self.actuator = actuator
        self._wrapper = _as_wrapper(wrapper, f"{name}(wrapper=...)")

    @override
    def operate(self, action: W) -> None:
        """Transform ``action`` and operate the actuator with the result."""
        self.actuator.operate(self._wrapper(action))

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return (("actuator", self.actuator), ("wrapper", self._wrapper))
