"""The model the demo learns: what the pendulum will do next.

The helpers work on one state (shape ``(2,)``) or a batch (shape ``(n, 2)``).
"""

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .pendulum import MAX_TORQUE

Array = NDArray[np.float32]

DELTA_SCALE = np.array([5.0, 2.0], dtype=np.float32)  # makes both targets ~unit size


def wrap(angle: NDArray[np.floating]) -> Array:
    """Angles in [-pi, pi)."""
    return ((angle + np.pi) % (2 * np.pi) - np.pi).astype(np.float32)


def features(state: Array, action: Array | float) -> Array:
    """Model input: angle as sine and cosine, scaled velocity and torque."""
    angle, velocity = state[..., 0], state[..., 1]
    torque = np.broadcast_to(np.asarray(action, dtype=np.float32), angle.shape)
    return np.stack(
        [np.sin(angle), np.cos(angle), velocity / 8.0, torque / MAX_TORQUE], axis=-1
    ).astype(np.float32)


def targets(state: Array, next_state: Array) -> Array:
    """Model output to learn: the scaled change of angle and velocity."""
    delta = np.stack(
        [wrap(next_state[..., 0] - state[..., 0]), next_state[..., 1] - state[..., 1]],
        axis=-1,
    )
    return (delta * DELTA_SCALE).astype(np.float32)


def next_state_from(state: Array, output: Array) -> Array:
    """The next state a model output predicts."""
    delta = output / DELTA_SCALE
    return np.stack(
        [wrap(state[..., 0] + delta[..., 0]), state[..., 1] + delta[..., 1]], axis=-1
    ).astype(np.float32)


def prediction_error(predicted: Array, actual: Array) -> float:
    """Mean squared error of predicted states, angle differences wrapped."""
    angle = wrap(predicted[..., 0] - actual[..., 0])
    velocity = predicted[..., 1] - actual[..., 1]
    return float(np.mean(angle * angle + velocity * velocity))


class Predictor(nn.Module):
    """A small MLP from ``features`` to ``targets``."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
