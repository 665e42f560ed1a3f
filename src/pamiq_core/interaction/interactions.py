"""The observe-decide-act loop step that ties an agent to its environment."""

from collections.abc import Iterable
from typing import ClassVar, Generic, Self, TypeVar, cast

from typing_extensions import override

from pamiq_core.utils.checks import describe, require_instance

from .agent import Agent
from .env import Environment
from .event_mixin import HookedPart, PartsForwardingMixin
from .interval_adjustors import IntervalAdjustor, SleepIntervalAdjustor

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Interaction(PartsForwardingMixin, Generic[ObsType, ActType]):
    """One agent acting in one environment.

    Each :meth:`step` observes the environment, lets the agent decide and applies the
    action. Hooks reach the agent first, then the environment; ``save_state(path)``
    creates the directory ``path`` holding ``agent`` and ``environment`` entries.

    Thread safety: in a running system every method except the state methods is
    called from the inference thread; ``save_state`` while that thread is paused or
    ended, ``load_state`` before it starts. Components need no locks of their own.
    """

    _init_marker: ClassVar[str | None] = "agent"

    def __init__(
        self, agent: Agent[ObsType, ActType], environment: Environment[ObsType, ActType]
    ) -> None:
        """Connect ``agent`` to ``environment``.

        Raises:
            TypeError: If ``agent`` is certainly not an agent or ``environment``
                not an environment (for example, the two swapped).
        """
        swapped = isinstance(agent, Environment) and isinstance(environment, Agent)
        hint = "The order is Interaction(agent, environment)." if swapped else ""
        name = type(self).__name__
        require_instance(agent, Agent, f"{name}(agent=...)", hint, ("step",))
        require_instance(
            environment,
            Environment,
            f"{name}(environment=...)",
            hint,
            ("observe", "affect"),
        )
        self.agent = agent
        self.environment = environment

    def step(self) -> None:
        """Observe, decide, act."""
        observation = self.environment.observe()
        action = self.agent.step(observation)
        self.environment.affect(action)

    @override
    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        return (("agent", self.agent), ("environment", self.environment))


class FixedIntervalInteraction(Interaction[ObsType, ActType]):
    """An interaction whose steps start at a fixed period.

    ``setup`` starts the first period; after each step, the adjustor blocks until
    the period is over. With :class:`SleepIntervalAdjustor` the period is
    ``interval - offset`` pamiq seconds, or the step's own duration when that is
    longer (no catch-up).
    """

    def __init__(
        self,
        agent: Agent[ObsType, ActType],
        environment: Environment[ObsType, ActType],
        adjustor: IntervalAdjustor,
    ) -> None:
        """Connect ``agent`` to ``environment`` and pace steps with ``adjustor``.

        Raises:
            TypeError: If ``adjustor`` is not an :class:`IntervalAdjustor` (for
                example a number: use :meth:`with_sleep_adjustor` for that).
        """
        super().__init__(agent, environment)
        given = cast(object, adjustor)  # checked as given, whatever its type
        if not isinstance(given, IntervalAdjustor) and (
            isinstance(given, int | float) or not hasattr(given, "adjust")
        ):
            raise TypeError(
                f"{type(self).__name__}(adjustor=...) must be an IntervalAdjustor; "
                f"got {describe(adjustor)}. For a period in seconds, use "
                f"{type(self).__name__}.with_sleep_adjustor(agent, environment, "
                "interval=...)."
            )
        self._adjustor = adjustor

    @classmethod
    def with_sleep_adjustor(
        cls,
        agent: Agent[ObsType, ActType],
        environment: Environment[ObsType, ActType],
        interval: float,
        offset: float = 0.0,
    ) -> Self:
        """Pace steps with a :class:`SleepIntervalAdjustor`.

        Args:
            agent: The agent.
            environment: The environment.
            interval: The period, in pamiq seconds.
            offset: Subtracted from every period (see :class:`IntervalAdjustor`).
        """
        return cls(agent, environment, SleepIntervalAdjustor(interval, offset))

    @override
    def setup(self) -> None:
        """Set up the agent and the environment, then start the first period."""
        super().setup()
        self._adjustor.reset()

    @override
    def step(self) -> None:
        """Observe, decide, act; then wait for the period to end."""
        super().step()
        self._adjustor.adjust()
