"""A simulated pendulum the agent pushes around: the demo's synthetic world."""

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from typing_extensions import override

from pamiq_core import Environment
from pamiq_core.state_persistence import load_pickle, save_pickle

DT = 0.05  # simulated seconds per step
GRAVITY = 9.8
DAMPING = 0.1
MAX_TORQUE = 2.0


def wrap_angle(angle: float) -> float:
    """The same angle in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


class Pendulum(Environment[NDArray[np.float32], float]):
    """A damped pendulum; observations are ``[angle, angular velocity]``.

    Each ``affect`` applies a torque for one time step of ``DT`` simulated seconds,
    whatever the real pace of the agent, so the dynamics the agent must learn do not
    depend on the machine.
    """

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.angle = float(rng.uniform(-math.pi, math.pi))
        self.velocity = 0.0

    @override
    def observe(self) -> NDArray[np.float32]:
        return np.array([self.angle, self.velocity], dtype=np.float32)

    @override
    def affect(self, action: float) -> None:
        torque = max(-MAX_TORQUE, min(MAX_TORQUE, action))
        acceleration = -GRAVITY * math.sin(self.angle) - DAMPING * self.velocity
        self.velocity += DT * (acceleration + torque)
        self.angle = wrap_angle(self.angle + DT * self.velocity)

    @override
    def save_state(self, path: Path) -> None:
        save_pickle((self.angle, self.velocity), path.with_suffix(".pkl"))

    @override
    def load_state(self, path: Path) -> None:
        self.angle, self.velocity = load_pickle(path.with_suffix(".pkl"))
