"""Transform observations and actions on their way between agent and world.

A :class:`Wrapper` is a function with lifecycle hooks and state. Wrappers apply to a
whole :class:`~pamiq_core.interaction.env.Environment` (:class:`EnvironmentWrapper`),
a sensor (:class:`SensorWrapper`) or an actuator (:class:`ActuatorWrapper`). Where a
wrapper is expected, a plain callable also works: it is wrapped in a
:class:`LambdaWrapper`. Hooks and state reach both the wrapped part and the wrapper.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar, cast

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin

from .env import Environment
from .event_mixin import InteractionEventMixin
from .modular_env import Actuator, Sensor

T = TypeVar("T")
W = TypeVar("W")
ObsType = TypeVar("ObsType")
WrappedObsType = TypeVar("WrappedObsType")
ActType = TypeVar("ActType")
WrappedActType = TypeVar("WrappedActType")


class Wrapper(
    ABC, InteractionEventMixin, PersistentStateMixin, ThreadEventMixin, Generic[T, W]
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

    def __init__(self, func: Callable[[T], W]) -> None:
        """Wrap values with ``func``."""
        self._func = func

    @override
    def wrap(self, value: T) -> W:
        """Return ``func(value)``."""
        return self._func(value)


def _as_wrapper(wrapper: Wrapper[T, W] | Callable[[T], W]) -> Wrapper[T, W]:
    """Use a wrapper as is; wrap anything else in a :class:`LambdaWrapper`."""
    if isinstance(wrapper, Wrapper):
        return cast("Wrapper[T, W]", wrapper)
    return LambdaWrapper(wrapper)


class EnvironmentWrapper(
    Environment[WrappedObsType, WrappedActType],
    Generic[ObsType, WrappedObsType, ActType, WrappedActType],
):
    """An environment seen through an observation and an action transform.

    On disk, ``save_state(path)`` creates the directory ``path`` holding ``env``,
    ``obs_wrapper`` and ``act_wrapper`` entries.
    """

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
        self.env = env
        self._obs_wrapper = _as_wrapper(obs_wrapper)
        self._act_wrapper = _as_wrapper(act_wrapper)

    @override
    def observe(self) -> WrappedObsType:
        """Observe ``env`` and transform the observation."""
        return self._obs_wrapper(self.env.observe())

    @override
    def affect(self, action: WrappedActType) -> None:
        """Transform ``action`` and apply it to ``env``."""
        self.env.affect(self._act_wrapper(action))

    @override
    def setup(self) -> None:
        """Set up the environment, the observation wrapper, the action wrapper."""
        self.env.setup()
        self._obs_wrapper.setup()
        self._act_wrapper.setup()

    @override
    def teardown(self) -> None:
        """Tear down the environment, the observation wrapper, the action wrapper."""
        self.env.teardown()
        self._obs_wrapper.teardown()
        self._act_wrapper.teardown()

    @override
    def on_paused(self) -> None:
        """Tell the environment, then both wrappers, that the system paused."""
        super().on_paused()
        self.env.on_paused()
        self._obs_wrapper.on_paused()
        self._act_wrapper.on_paused()

    @override
    def on_resumed(self) -> None:
        """Tell the environment, then both wrappers, that the system resumed."""
        super().on_resumed()
        self.env.on_resumed()
        self._obs_wrapper.on_resumed()
        self._act_wrapper.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        """Create ``path``; save to ``env``, ``obs_wrapper``, ``act_wrapper`` in it.

        Raises:
            FileExistsError: If ``path`` already exists.
        """
        path.mkdir()
        self.env.save_state(path / "env")
        self._obs_wrapper.save_state(path / "obs_wrapper")
        self._act_wrapper.save_state(path / "act_wrapper")

    @override
    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote."""
        self.env.load_state(path / "env")
        self._obs_wrapper.load_state(path / "obs_wrapper")
        self._act_wrapper.load_state(path / "act_wrapper")


class SensorWrapper(Sensor[W], Generic[T, W]):
    """A sensor whose readings pass through a wrapper.

    On disk, ``save_state(path)`` creates the directory ``path`` holding ``sensor``
    and ``wrapper`` entries.
    """

    def __init__(self, sensor: Sensor[T], wrapper: Wrapper[T, W] | Callable[[T], W]):
        """Read ``sensor`` and transform its readings with ``wrapper``."""
        self.sensor = sensor
        self._wrapper = _as_wrapper(wrapper)

    @override
    def read(self) -> W:
        """Read the sensor and transform the reading."""
        return self._wrapper(self.sensor.read())

    @override
    def setup(self) -> None:
        """Set up the sensor, then the wrapper."""
        self.sensor.setup()
        self._wrapper.setup()

    @override
    def teardown(self) -> None:
        """Tear down the sensor, then the wrapper."""
        self.sensor.teardown()
        self._wrapper.teardown()

    @override
    def on_paused(self) -> None:
        """Tell the sensor, then the wrapper, that the system paused."""
        super().on_paused()
        self.sensor.on_paused()
        self._wrapper.on_paused()

    @override
    def on_resumed(self) -> None:
        """Tell the sensor, then the wrapper, that the system resumed."""
        super().on_resumed()
        self.sensor.on_resumed()
        self._wrapper.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        """Create ``path``; save to ``path/sensor`` and ``path/wrapper``.

        Raises:
            FileExistsError: If ``path`` already exists.
        """
        path.mkdir()
        self.sensor.save_state(path / "sensor")
        self._wrapper.save_state(path / "wrapper")

    @override
    def load_state(self, path: Path) -> None:
        """Load the sensor and the wrapper from what :meth:`save_state` wrote."""
        self.sensor.load_state(path / "sensor")
        self._wrapper.load_state(path / "wrapper")


class ActuatorWrapper(Actuator[W], Generic[T, W]):
    """An actuator whose actions pass through a wrapper first.

    Forwards ``on_paused`` and ``teardown`` to the wrapped actuator, so it can
    release held inputs (see :class:`~pamiq_core.interaction.modular_env.Actuator`).
    On disk, ``save_state(path)`` creates the directory ``path`` holding
    ``actuator`` and ``wrapper`` entries.
    """

    def __init__(
        self, actuator: Actuator[T], wrapper: Wrapper[W, T] | Callable[[W], T]
    ) -> None:
        """Transform actions with ``wrapper`` and pass them to ``actuator``."""
        self.actuator = actuator
        self._wrapper = _as_wrapper(wrapper)

    @override
    def operate(self, action: W) -> None:
        """Transform ``action`` and operate the actuator with the result."""
        self.actuator.operate(self._wrapper(action))

    @override
    def setup(self) -> None:
        """Set up the actuator, then the wrapper."""
        self.actuator.setup()
        self._wrapper.setup()

    @override
    def teardown(self) -> None:
        """Tear down the actuator, then the wrapper."""
        self.actuator.teardown()
        self._wrapper.teardown()

    @override
    def on_paused(self) -> None:
        """Tell the actuator, then the wrapper, that the system paused."""
        super().on_paused()
        self.actuator.on_paused()
        self._wrapper.on_paused()

    @override
    def on_resumed(self) -> None:
        """Tell the actuator, then the wrapper, that the system resumed."""
        super().on_resumed()
        self.actuator.on_resumed()
        self._wrapper.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        """Create ``path``; save to ``path/actuator`` and ``path/wrapper``.

        Raises:
            FileExistsError: If ``path`` already exists.
        """
        path.mkdir()
        self.actuator.save_state(path / "actuator")
        self._wrapper.save_state(path / "wrapper")

    @override
    def load_state(self, path: Path) -> None:
        """Load the actuator and the wrapper from what :meth:`save_state` wrote."""
        self.actuator.load_state(path / "actuator")
        self._wrapper.load_state(path / "wrapper")
