"""The agent: plays CartPole epsilon-greedily with the Q-network and keeps score."""

import logging
import math
import random
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataCollector
from pamiq_core.gym import GymAgent
from pamiq_core.gym.types import GymAction, GymObs
from pamiq_core.torch import TorchAgent, TorchInferenceModel

from .network import ACTIONS, QNetwork

logger = logging.getLogger("cartpole_dqn")

Observation = NDArray[np.float32]


class DQNAgent(
    GymAgent[Observation, int], TorchAgent[GymObs[Observation], GymAction[int]]
):
    """Acts epsilon-greedily on the synced Q-network and collects every transition.

    Epsilon falls linearly from ``epsilon_start`` to ``epsilon_end`` over the first
    ``epsilon_decay_steps`` steps. Every ``report_interval`` pamiq seconds it logs
    the mean return of the last ``window`` episodes; :attr:`episodes` keeps the
    time and return of every episode for the learning curve.
    """

    def __init__(
        self,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        epsilon_decay_steps: int = 10_000,
        report_interval: float = 10.0,
        window: int = 20,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.epsilon_start = epsilon_start
        self.epsilon_end = epsilon_end
        self.epsilon_decay_steps = epsilon_decay_steps
        self.report_interval = report_interval
        self.window = window
        self.rng = random.Random(seed)
        self.steps = 0
        self.episode_return = 0.0
        self.episodes: list[tuple[float, float]] = []  # (seconds since start, return)
        self.observation: Observation | None = None
        self.action = 0
        self.start_time = 0.0
        self.next_report = math.inf
        self.steps_at_report = 0
        self.time_at_report = 0.0

    @override
    def on_inference_models_attached(self) -> None:
        self.q: TorchInferenceModel[QNetwork] = self.get_torch_inference_model(
            "q", QNetwork
        )

    @override
    def on_data_collectors_attached(self) -> None:
        self.transitions: DataCollector[dict[str, Any]] = self.get_data_collector(
            "transitions"
        )

    @override
    def setup(self) -> None:
        super().setup()
        self.start_time = self.time_at_report = time.time()
        self.next_report = self.start_time + self.report_interval

    @property
    def epsilon(self) -> float:
        progress = min(1.0, self.steps / self.epsilon_decay_steps)
        return self.epsilon_start + progress * (self.epsilon_end - self.epsilon_start)

    def choose(self, observation: Observation) -> int:
        if self.rng.random() < self.epsilon:
            return self.rng.randrange(ACTIONS)
        values = self.q(torch.from_numpy(observation)[None])
        return int(values[0].argmax())

    @override
    def on_reset(self, obs: Observation, info: dict[str, Any]) -> int:
        self.observation = obs
        self.episode_return = 0.0
        self.action = self.choose(obs)
        return self.action

    @override
    def on_step(
        self,
        obs: Observation,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> int:
        self.transitions.collect(
            {
                "obs": self.observation,
                "action": self.action,
                "reward": reward,
                "next_obs": obs,
                "terminal": terminated,  # a time-limit truncation is not terminal
            }
        )
        self.steps += 1
        self.episode_return += reward
        now = time.time()
        if terminated or truncated:
            self.episodes.append((now - self.start_time, self.episode_return))
            self.log_scalars(
                {"episode_return": self.episode_return, "epsilon": self.epsilon}
            )
        if now >= self.next_report:
            self.report()
            self.next_report += self.report_interval
        if terminated or truncated:
            return self.action  # ignored: on_reset chooses the next episode's first
        self.observation = obs
        self.action = self.choose(obs)
        return self.action

    def recent_mean_return(self) -> float:
        recent = [ret for _, ret in self.episodes[-self.window :]]
        return sum(recent) / len(recent) if recent else math.nan

    def report(self) -> None:
        now = time.time()
        rate = (self.steps - self.steps_at_report) / max(
            now - self.time_at_report, 1e-9
        )
        self.steps_at_report, self.time_at_report = self.steps, now
        logger.info(
            f"[{now - self.start_time:5.0f} s] episodes {len(self.episodes):5d}, "
            f"steps {self.steps:7d} ({rate:4.0f}/s), "
            f"mean return (last {self.window}) {self.recent_mean_return():6.1f}, "
            f"epsilon {self.epsilon:.2f}, Q-network synced {self.q.sync_version} times"
        )
