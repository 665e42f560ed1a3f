"""The observe-decide-act loop step that ties an agent to its environment."""

from pathlib import Path
from typing import Generic, Self, TypeVar

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin

from .agent import Agent
from .env import Environment
from .event_mixin import InteractionEventMixin
from .interval_adjustors import IntervalAdjustor, SleepIntervalAdjustor

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class Interaction(
    InteractionEventMixin,
    PersistentStateMixin,
    ThreadEventMixin,
    Generic[ObsType, ActType],
):
    """One agent acting in one environment.

    Each :meth:`step` observes the environment, lets the agent decide and applies the
    action. Hooks reach the agent first, then the environment.

    Thread safety: in a running system every method except the state methods is
    called from the inference thread; ``save_state`` while that thread is paused or
    ended, ``load_state`` before it starts. Components need no locks of their own.
    """

    def __init__(
        self, agent: Agent[ObsType, ActType], environment: Environment[ObsType, ActType]
    ) -> None:
        """Connect ``agent`` to ``environment``."""
        self.agent = agent
        self.environment = environment

    def step(self) -> None:
        """Observe, decide, act."""
        observation = self.environment.observe()
        action = self.agent.step(observation)
        self.environment.affect(action)

    @override
    def setup(self) -> None:
        """Set up the agent, then the environment."""
        super().setup()
        self.agent.setup()
        self.environment.setup()

    @override
    def teardown(self) -> None:
        """Tear down the agent, then the environment."""
        super().teardown()
        self.agent.teardown()
        self.environment.teardown()

    @override
    def on_paused(self) -> None:
        """Tell the agent, then the environment, that the system paused."""
        super().on_paused()
        self.agent.on_paused()
        self.environment.on_paused()

    @override
    def on_resumed(self) -> None:
        """Tell the agent, then the environment, that the system resumed."""
        super().on_resumed()
        self.agent.on_resumed()
        self.environment.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        """Create the directory ``path``; save to ``path/agent``, ``path/environment``.

        Raises:
            FileExistsError: If ``path`` already exists.
        """
        path.mkdir()
        self.agent.save_state(path / "agent")
        self.environment.save_state(path / "environment")

    @override
    def load_state(self, path: Path) -> None:
        """Load the agent and the environment from what :meth:`save_state` wrote."""
        self.agent.load_state(path / "agent")
        self.environment.load_state(path / "environment")


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
        """Connect ``agent`` to ``environment`` and pace steps with ``adjustor``."""
        super().__init__(agent, environment)
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
