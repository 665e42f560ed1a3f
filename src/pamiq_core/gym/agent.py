"""A pamiq-core agent for gymnasium environments, with per-episode hooks."""

import inspect
from abc import abstractmethod
from dataclasses import asdict, fields
from typing import Any, Generic, TypeVar, cast

from typing_extensions import override

from pamiq_core.interaction import Agent

from .types import EnvReset, EnvStep, GymAction, GymObs

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class GymAgent(Agent[GymObs[ObsType], GymAction[ActType]], Generic[ObsType, ActType]):
    """An agent that reacts to episode starts and steps separately.

    Subclasses implement :meth:`on_reset` and :meth:`on_step`. Both are called with
    keyword arguments named after the fields of ``EnvReset`` and ``EnvStep``, so
    overrides must keep the parameter names. Setting ``self.need_reset = True`` in
    either hook makes the environment reset after the action it returns.

    The hooks receive deep copies of ``obs`` and ``info`` (made with
    ``dataclasses.asdict``), so they may keep or modify them freely. Copying costs
    time and memory proportional to the observation, e.g. a full copy of an image
    array every step. As with any ``asdict`` call, an observation that is itself a
    dataclass arrives converted to a dict.
    """

    need_reset: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check that overridden hooks take the keyword arguments they are given.

        Raises:
            TypeError: If ``on_reset`` or ``on_step`` lacks a parameter named after
                a field of ``EnvReset`` or ``EnvStep`` (they are passed by name).
        """
        super().__init_subclass__(**kwargs)
        for hook, source in (("on_reset", EnvReset), ("on_step", EnvStep)):
            method = cls.__dict__.get(hook)
            if callable(method):
                _check_hook_parameters(cls, hook, method, source)

    @abstractmethod
    def on_reset(self, obs: ObsType, info: dict[str, Any]) -> ActType:
        """Return the first action of a new episode that starts with ``obs``."""

    @abstractmethod
    def on_step(
        self,
        obs: ObsType,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> ActType:
        """Return the next action after a step of the episode.

        When the step ended the episode (``terminated`` or ``truncated``), the
        return value is discarded and :meth:`on_reset` follows for the new episode.
        """

    @override
    def setup(self) -> None:
        """Set up this agent and its children, then clear ``need_reset``."""
        super().setup()
        self.need_reset = False

    @override
    def step(self, observation: GymObs[ObsType]) -> GymAction[ActType]:
        """Dispatch ``observation`` to the hooks and wrap their action.

        Raises:
            TypeError: If ``observation`` is not an ``EnvReset``, an ``EnvStep`` or
                an ``(EnvStep, EnvReset)`` tuple.
        """
        match observation:
            case EnvReset():
                action = self._start_episode(observation)
            case EnvStep():
                action = self.on_step(**asdict(observation))
            case tuple((EnvStep() as final_step, EnvReset() as reset)):
                self.on_step(**asdict(final_step))
                action = self._start_episode(reset)
            case _:  # only reachable by callers that ignore the type hints
                raise TypeError(
                    f"{type(self).__name__}.step() got an observation of type "
                    f"{_describe(observation)}; expected EnvReset, EnvStep or "
                    "tuple[EnvStep, EnvReset]."
                )
        return GymAction(action, self.need_reset)

    def _start_episode(self, reset: EnvReset[ObsType]) -> ActType:
        self.need_reset = False
        return self.on_reset(**asdict(reset))


def _describe(observation: object) -> str:
    """Name the type of ``observation``, and of its items if it is a tuple."""
    if isinstance(observation, tuple):
        items = cast("tuple[object, ...]", observation)
        names = ", ".join(type(item).__name__ for item in items)
        return f"{type(items).__name__}[{names}]"
    return type(observation).__name__


def _check_hook_parameters(cls: type, hook: str, method: object, source: type) -> None:
    """Raise ``TypeError`` if ``method`` cannot take ``source``'s fields by name."""
    try:
        parameters = inspect.signature(cast(Any, method)).parameters
    except (TypeError, ValueError):  # no signature to inspect (a builtin)
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = {
        name
        for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    names = [f.name for f in fields(source)]
    missing = [name for name in names if name not in accepted]
    if missing:
        raise TypeError(
            f"{cls.__name__}.{hook} is called with the keyword arguments "
            f"{', '.join(names)}, but it has no parameter named "
            f"{', '.join(missing)}. Keep the parameter names of GymAgent.{hook}: "
            f"def {hook}(self, {', '.join(names)})."
        )
