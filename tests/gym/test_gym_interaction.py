"""A GymAgent and a GymEnvironment running CartPole together."""

from typing import Any

import gymnasium
import numpy as np

from pamiq_core import Interaction
from pamiq_core.gym import GymAgent, GymEnvironment

Obs = np.ndarray[Any, np.dtype[np.float32]]


class RandomCartPoleAgent(GymAgent[Obs, int]):
    """Pushes left or right at random; asks for a reset at the 25th step."""

    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng(0)
        self.episode_lengths: list[int] = []  # of the finished episodes
        self.episode_steps: int | None = None
        self.terminations = 0
        self.observations: list[Obs] = []

    def on_reset(self, obs: Obs, info: dict[str, Any]) -> int:
        self.observations.append(obs)
        if self.episode_steps is not None:
            self.episode_lengths.append(self.episode_steps)
        self.episode_steps = 0
        return int(self.rng.integers(2))

    def on_step(
        self,
        obs: Obs,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> int:
        assert reward == 1.0
        assert not truncated  # CartPole truncates at 500 steps
        assert self.episode_steps is not None
        self.observations.append(obs)
        self.episode_steps += 1
        self.terminations += terminated
        if self.episode_steps == 25:
            self.need_reset = True  # the reset follows the next step
        return int(self.rng.integers(2))


def run(steps: int) -> RandomCartPoleAgent:
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=0)  # GymEnvironment resets without a seed; this stream continues
    agent = RandomCartPoleAgent()
    interaction = Interaction(agent, GymEnvironment[Obs, int](env))
    interaction.setup()
    for _ in range(steps):
        interaction.step()
    interaction.teardown()
    return agent


def test_random_policy_runs_through_several_episodes() -> None:
    agent = run(400)
    lengths = agent.episode_lengths
    assert len(lengths) >= 10
    # Each finished episode shows up as one (step, reset) observation.
    assert len(agent.observations) == 400 + len(lengths)
    assert all(1 <= length <= 26 for length in lengths)
    assert 26 in lengths  # ended on request, one step after asking
    assert agent.terminations >= sum(length < 26 for length in lengths) > 0
    space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
    assert all(obs in space for obs in agent.observations)


def test_runs_are_reproducible_from_the_seeds() -> None:
    first, second = run(200), run(200)
    assert first.episode_lengths == second.episode_lengths
    np.testing.assert_array_equal(first.observations[-1], second.observations[-1])
