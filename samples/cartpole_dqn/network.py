"""The Q-network: an estimate of the return of each action in a CartPole state."""

import torch
from torch import nn

OBSERVATION_SIZE = 4  # cart position, cart velocity, pole angle, pole angular velocity
ACTIONS = 2  # push left, push right

# Typical magnitudes of the four observations, so the inputs are about unit size.
OBSERVATION_SCALE = (2.4, 3.0, 0.21, 3.0)


class QNetwork(nn.Module):
    """An MLP from a batch of observations ``(n, 4)`` to action values ``(n, 2)``."""

    scale: torch.Tensor

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.register_buffer("scale", torch.tensor(OBSERVATION_SCALE))
        self.net = nn.Sequential(
            nn.Linear(OBSERVATION_SIZE, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, ACTIONS),
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(observations / self.scale)
