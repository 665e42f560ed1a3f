"""What a :class:`~pamiq_core.gym.GymEnvironment` and a GymAgent exchange."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from typing_extensions import TypeAliasType

T = TypeVar("T")


@dataclass(frozen=True)
class EnvReset(Generic[T]):
    """The result of ``env.reset()``: the first observation of an episode."""

    obs: T
    info: dict[str, Any]


@dataclass(frozen=True)
class EnvStep(Generic[T]):
    """The result of ``env.step(action)``."""

    obs: T
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]

    @property
    def done(self) -> bool:
        """Whether the episode ended with this step (terminated or truncated)."""
        return self.truncated or self.terminated


EnvOutput = TypeAliasType("EnvOutput", EnvReset[T] | EnvStep[T], type_params=(T,))
"""One result of the environment: a reset or a step."""

GymObs = TypeAliasType(
    "GymObs", EnvOutput[T] | tuple[EnvStep[T], EnvReset[T]], type_params=(T,)
)
"""What the agent observes.

The pair ``(step, reset)`` means that the episode ended with ``step`` and the
environment was then reset to ``reset``.
"""


@dataclass(frozen=True)
class GymAction(Generic[T]):
    """The agent's action, and whether the environment should reset after it."""

    action: T
    need_reset: bool
