"""Mistakes with the Gymnasium adapters."""

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest

from pamiq_core import Agent, Interaction
from pamiq_core.gym import GymAgent, GymEnvironment
from pamiq_core.utils.init_check import MissingSuperInitError

from .parts import Slots, run

Obs = np.ndarray[Any, np.dtype[np.float32]]


class Pusher(GymAgent[Obs, int]):
    def on_reset(self, obs: Obs, info: dict[str, Any]) -> int:
        return 0

    def on_step(
        self,
        obs: Obs,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> int:
        return 1


def test_hooks_with_renamed_parameters_are_refused_where_they_are_defined() -> None:
    with pytest.raises(TypeError) as raised:

        class Renamed(Pusher):
            def on_step(  # pyright: ignore[reportIncompatibleMethodOverride]
                self,
                observation: Obs,
                reward: float,
                terminated: bool,
                truncated: bool,
                info: dict[str, Any],
            ) -> int:
                return 1

    assert str(raised.value) == (
        "Renamed.on_step is called with the keyword arguments obs, reward, "
        "terminated, truncated, info, but it has no parameter named obs. Keep the "
        "parameter names of GymAgent.on_step: def on_step(self, obs, reward, "
        "terminated, truncated, info)."
    )


def test_hooks_taking_keyword_arguments_are_fine() -> None:
    class Flexible(Pusher):
        def on_reset(self, **kwds: Any) -> int:  # pyright: ignore[reportIncompatibleMethodOverride]
            return 0


def test_a_plain_agent_acting_on_a_gym_environment(tmp_path: Path) -> None:
    class Plain(Agent[Any, int]):
        def step(self, observation: Any) -> int:
            return 0

    environment = GymEnvironment("CartPole-v1")
    with pytest.raises(TypeError) as raised:
        run(tmp_path, agent=Plain(), environment=environment)
    assert str(raised.value) == (
        "GymEnvironment.affect() takes a GymAction (what GymAgent.step returns); "
        "got an int. Use a GymAgent, or return GymAction(action, need_reset=False) "
        "from step()."
    )


def test_a_gymnasium_environment_without_the_adapter() -> None:
    with pytest.raises(
        TypeError,
        match=r"got a gymnasium environment \(TimeLimit\)"
        r"\. Wrap it: GymEnvironment\(env\)",
    ):
        Interaction(Pusher(), gymnasium.make("CartPole-v1"))  # pyright: ignore[reportArgumentType]


def test_the_environment_class_instead_of_an_environment() -> None:
    from gymnasium.envs.classic_control import CartPoleEnv

    with pytest.raises(
        TypeError,
        match=r"GymEnvironment\(env=\.\.\.\) takes a "
        r"gymnasium environment or its id; got the class CartPoleEnv",
    ):
        GymEnvironment(CartPoleEnv)  # pyright: ignore[reportArgumentType]


def test_a_pamiq_environment_needs_no_adapter() -> None:
    with pytest.raises(TypeError, match="A pamiq-core Environment needs no wrapping"):
        GymEnvironment(Slots())  # pyright: ignore[reportArgumentType]


def test_a_subclass_without_super_init(tmp_path: Path) -> None:
    class Seeded(GymEnvironment[Obs, int]):
        def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
            self.seed = 0

    with pytest.raises(
        MissingSuperInitError,
        match=r"Seeded\.__init__ does not "
        r"call super\(\)\.__init__\(\), so GymEnvironment\.__init__ "
        r"never ran",
    ):
        run(tmp_path, agent=Pusher(), environment=Seeded())


def test_a_gym_agent_without_super_init(tmp_path: Path) -> None:
    class Counting(Pusher):
        def __init__(self) -> None:  # pyright: ignore[reportMissingSuperCall]
            self.episodes = 0

    with pytest.raises(
        MissingSuperInitError,
        match=r"Counting\.__init__ does not "
        r"call super\(\)\.__init__\(\), so Agent\.__init__ never ran",
    ):
        run(tmp_path, agent=Counting(), environment=GymEnvironment("CartPole-v1"))
