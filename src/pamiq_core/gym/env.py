"""A gymnasium environment as a pamiq-core environment."""

import sys
from typing import Any, ClassVar, Generic, TypeVar, cast

import gymnasium as gym
from typing_extensions import override

from pamiq_core.interaction import Environment
from pamiq_core.utils.checks import describe
from pamiq_core.utils.init_check import InitChecked

from .types import EnvReset, EnvStep, GymAction, GymObs

ObsType = TypeVar("ObsType")
ActType = TypeVar("ActType")


class GymEnvironment(
    Environment[GymObs[ObsType], GymAction[ActType]],
    InitChecked,
    Generic[ObsType, ActType],
):
    """Runs a ``gymnasium.Env`` and resets it whenever an episode ends.

    :meth:`observe` returns what the last ``reset`` or ``step`` produced; after a
    step that ended the episode (or an action that asked for a reset) it returns
    the pair ``(final step, new reset)``. ``reset`` is always called without a seed
    or options; seed the environment yourself before passing it in if you need
    reproducible episodes.

    The wrapped environment is closed when this object is garbage collected, also
    when it was passed in as an instance.
    """

    # Bound here so that __del__ can still reach it while the interpreter shuts
    # down and module globals may already be gone.
    _is_finalizing = staticmethod(sys.is_finalizing)
    _init_marker: ClassVar[str | None] = "_obs"

    def __init__(
        self, env: gym.Env[ObsType, ActType] | str, **gym_make_kwds: Any
    ) -> None:
        """Wrap ``env``.

        Args:
            env: An environment instance, used as is, or an environment id passed
                to ``gymnasium.make``.
            **gym_make_kwds: Keyword arguments for ``gymnasium.make``; ignored
                when ``env`` is an instance.

        Raises:
            TypeError: If ``env`` is neither a string nor a gymnasium environment
                (a class, or a pamiq-core environment, for example).
        """
        if isinstance(env, type) or isinstance(cast(object, env), Environment):
            hint = (
                f" Create one: {env.__name__}(...), or pass its id to gymnasium.make."
                if isinstance(env, type)
                else " A pamiq-core Environment needs no wrapping."
            )
            raise TypeError(
                f"{type(self).__name__}(env=...) takes a gymnasium environment or "
                f"its id; got {describe(env)}.{hint}"
            )
        if isinstance(env, str):
            env = cast("gym.Env[ObsType, ActType]", gym.make(env, **gym_make_kwds))
        self.env = env
        self._obs: GymObs[ObsType] | None = None

    @override
    def setup(self) -> None:
        """Reset the environment to start the first episode."""
        super().setup()
        self._obs = EnvReset(*self.env.reset())

    @override
    def observe(self) -> GymObs[ObsType]:
        """Return the result of the last reset or step.

        Raises:
            AttributeError: If :meth:`setup` has not run yet.
        """
        if self._obs is None:
            raise AttributeError(
                f"{type(self).__name__} has no observation yet: call setup() first."
            )
        return self._obs

    @override
    def affect(self, action: GymAction[ActType]) -> None:
        """Step with ``action.action``; reset if the episode ended or was asked to.

        Raises:
            TypeError: If ``action`` is not a :class:`GymAction`.
        """
        if not isinstance(cast(object, action), GymAction):
            raise TypeError(
                f"{type(self).__name__}.affect() takes a GymAction (what "
                f"GymAgent.step returns); got {describe(action)}. Use a GymAgent, "
                "or return GymAction(action, need_reset=False) from step()."
            )
        obs, reward, terminated, truncated, info = self.env.step(action.action)
        step = EnvStep(obs, float(reward), terminated, truncated, info)
        if step.done or action.need_reset:
            self._obs = (step, EnvReset(*self.env.reset()))
        else:
            self._obs = step

    def __del__(self) -> None:
        env: gym.Env[ObsType, ActType] | None = getattr(self, "env", None)
        if env is None:  # __init__ failed before the environment existed
            return
        try:
            env.close()
        except Exception:
            # While the interpreter shuts down, closing may fail for lack of the
            # modules it needs (e.g. a renderer importing its backend); nobody is
            # left to act on that. At any other time, report it as usual.
            if self._is_finalizing():
                return
            raise
