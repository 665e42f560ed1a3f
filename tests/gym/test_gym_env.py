"""GymEnvironment with gymnasium's built-in environments."""

import gc
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any, get_origin

import gymnasium
import numpy as np
import pytest

from pamiq_core.gym import GymEnvironment
from pamiq_core.gym.types import EnvReset, EnvStep, GymAction
from pamiq_core.interaction import Environment

Obs = np.ndarray[Any, np.dtype[np.float32]]


@pytest.fixture
def cartpole() -> Iterator[GymEnvironment[Obs, int]]:
    env = GymEnvironment[Obs, int]("CartPole-v1")
    env.env.reset(seed=0)  # later unseeded resets continue this seeded stream
    yield env
    env.env.close()


def step_until_reset(env: GymEnvironment[Obs, int], action: int) -> int:
    """Push CartPole one way until the pole falls; return the number of steps."""
    for steps in range(1, 101):
        env.affect(GymAction(action, need_reset=False))
        if isinstance(env.observe(), tuple):
            return steps
    raise AssertionError("the pole never fell")


class ClosingEnv(gymnasium.Env[int, int]):
    """Counts close() calls; optionally fails to close."""

    def __init__(self, error: Exception | None = None) -> None:
        self.closed = 0
        self.error = error

    def close(self) -> None:
        self.closed += 1
        if self.error is not None:
            raise self.error


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """Exceptions that Python reports as ignored (e.g. raised in __del__)."""
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: seen.append(info.exc_value))
    return seen


class TestConstruction:
    def test_is_an_environment_subscriptable_at_run_time(self) -> None:
        assert issubclass(GymEnvironment, Environment)
        assert get_origin(GymEnvironment[int, int]) is GymEnvironment

    def test_an_id_is_made_with_the_keyword_arguments(self) -> None:
        env = GymEnvironment[Obs, int](
            "CartPole-v1", max_episode_steps=3, render_mode="rgb_array"
        )
        assert env.env.spec is not None
        assert env.env.spec.id == "CartPole-v1"
        assert env.env.spec.max_episode_steps == 3
        assert env.env.render_mode == "rgb_array"
        env.setup()
        for i in range(3):
            env.affect(GymAction(i % 2, need_reset=False))  # keeps the pole up
        observation = env.observe()
        assert isinstance(observation, tuple)
        assert observation[0].truncated

    def test_keyword_arguments_reach_the_environment_constructor(self) -> None:
        env = GymEnvironment[int, int]("FrozenLake-v1", map_name="8x8")
        assert env.env.observation_space == gymnasium.spaces.Discrete(64)

    def test_an_instance_is_used_as_is(self) -> None:
        instance = gymnasium.make("CartPole-v1")
        env = GymEnvironment[Obs, int](instance, max_episode_steps=3)
        assert env.env is instance
        assert instance.spec is not None
        assert instance.spec.max_episode_steps == 500  # the keyword was ignored

    def test_an_unknown_id_fails_like_gymnasium_make(self) -> None:
        with pytest.raises(gymnasium.error.NameNotFound):
            GymEnvironment[Any, Any]("NoSuchEnvironment-v0")


class TestObserveAndAffect:
    def test_observe_before_setup_says_to_call_setup(
        self, cartpole: GymEnvironment[Obs, int]
    ) -> None:
        with pytest.raises(AttributeError, match=r"call setup\(\) first"):
            cartpole.observe()

    def test_setup_resets(self, cartpole: GymEnvironment[Obs, int]) -> None:
        cartpole.setup()
        observation = cartpole.observe()
        assert isinstance(observation, EnvReset)
        assert observation.obs in cartpole.env.observation_space
        assert observation.info == {}
        assert cartpole.observe() is observation  # the stored object itself

    def test_affect_stores_the_step(self, cartpole: GymEnvironment[Obs, int]) -> None:
        cartpole.setup()
        first = cartpole.observe()
        assert isinstance(first, EnvReset)
        cartpole.affect(GymAction(1, need_reset=False))
        step = cartpole.observe()
        assert isinstance(step, EnvStep)
        assert type(step.reward) is float
        assert step.reward == 1.0
        assert not step.terminated
        assert not step.truncated
        assert not step.done
        assert step.obs in cartpole.env.observation_space
        assert not np.array_equal(step.obs, first.obs)

    def test_a_finished_episode_is_followed_by_a_reset(
        self, cartpole: GymEnvironment[Obs, int]
    ) -> None:
        cartpole.setup()
        steps = step_until_reset(cartpole, action=0)
        observation = cartpole.observe()
        assert isinstance(observation, tuple)
        final, reset = observation
        assert isinstance(final, EnvStep)
        assert final.terminated
        assert final.done
        assert isinstance(reset, EnvReset)
        assert np.all(np.abs(reset.obs) <= 0.05)  # CartPole starts near the centre
        assert steps < 100
        # The new episode runs normally.
        cartpole.affect(GymAction(1, need_reset=False))
        assert isinstance(cartpole.observe(), EnvStep)

    def test_need_reset_resets_after_the_action(
        self, cartpole: GymEnvironment[Obs, int]
    ) -> None:
        cartpole.setup()
        cartpole.affect(GymAction(1, need_reset=True))
        observation = cartpole.observe()
        assert isinstance(observation, tuple)
        final, reset = observation
        assert not final.done
        assert isinstance(reset, EnvReset)

    def test_discrete_observations(self) -> None:
        env = GymEnvironment[int, int]("FrozenLake-v1", is_slippery=False)
        env.setup()
        assert env.observe() == EnvReset(0, {"prob": 1})
        env.affect(GymAction(2, need_reset=False))  # right
        assert env.observe() == EnvStep(1, 0.0, False, False, {"prob": 1.0})
        env.affect(GymAction(1, need_reset=False))  # down, into the hole at (1, 1)
        observation = env.observe()
        assert isinstance(observation, tuple)
        assert observation[0].obs == 5
        assert observation[0].terminated
        assert observation[1].obs == 0

    def test_continuous_actions(self) -> None:
        env = GymEnvironment[Obs, Obs]("Pendulum-v1")
        env.setup()
        torque = np.array([0.5], dtype=np.float32)
        for _ in range(199):
            env.affect(GymAction(torque, need_reset=False))
            step = env.observe()
            assert isinstance(step, EnvStep)
            assert type(step.reward) is float
            assert step.reward <= 0.0
        env.affect(GymAction(torque, need_reset=False))
        observation = env.observe()
        assert isinstance(observation, tuple)
        assert observation[0].truncated  # Pendulum's 200-step limit
        assert not observation[0].terminated


class TestClose:
    def test_collecting_the_environment_closes_the_gymnasium_env(
        self, unraisable: list[BaseException | None]
    ) -> None:
        inner = ClosingEnv()
        env = GymEnvironment[int, int](inner)
        del env
        gc.collect()
        assert inner.closed == 1
        assert unraisable == []

    def test_teardown_does_not_close(self) -> None:
        inner = ClosingEnv()
        env = GymEnvironment[int, int](inner)
        env.teardown()
        assert inner.closed == 0
        del env

    def test_a_failed_construction_has_nothing_to_close(
        self, unraisable: list[BaseException | None]
    ) -> None:
        with pytest.raises(gymnasium.error.NameNotFound):
            GymEnvironment[Any, Any]("NoSuchEnvironment-v0")
        gc.collect()
        assert unraisable == []

    def test_a_failing_close_is_reported(
        self, unraisable: list[BaseException | None]
    ) -> None:
        error = RuntimeError("cannot close")
        env = GymEnvironment[int, int](ClosingEnv(error))
        del env
        gc.collect()
        assert unraisable == [error]

    def test_a_close_that_fails_at_interpreter_shutdown_is_not_reported(self) -> None:
        # Closing a renderer at shutdown typically fails to import its backend.
        script = textwrap.dedent(
            """
            import sys
            import gymnasium
            from pamiq_core.gym import GymEnvironment

            class Env(gymnasium.Env):
                def close(self, finalizing=sys.is_finalizing, write=sys.stdout.write):
                    write(f"closing, finalizing={finalizing()}\\n")
                    if finalizing():
                        raise ImportError("sys.meta_path is None")

            env = GymEnvironment(Env())
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert result.stdout == "closing, finalizing=True\n"
        assert result.stderr == ""
