"""A torch system for process-mode tests: the agent's model is learnt in another process."""

import os
import threading
from typing import Any

import torch
from torch import nn

from pamiq_core import Agent, Environment, Interaction, LaunchConfig, launch
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.torch import (
    OptimizersSetup,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)


class Points(Environment[torch.Tensor, torch.Tensor]):
    def __init__(self) -> None:
        self.generator = torch.Generator().manual_seed(0)

    def observe(self) -> torch.Tensor:
        return torch.randn(4, generator=self.generator)

    def affect(self, action: torch.Tensor) -> None:
        pass


class Predictor(Agent[torch.Tensor, torch.Tensor]):
    """Collects each point and predicts with the agent's copy of the model."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[int] = []
        self.shared: list[bool] = []

    def on_inference_models_attached(self) -> None:
        self.model: TorchInferenceModel[nn.Linear] = self.get_inference_model("linear")  # type: ignore[assignment]

    def on_data_collectors_attached(self) -> None:
        self.points: DataCollector[torch.Tensor] = self.get_data_collector("points")

    def step(self, observation: torch.Tensor) -> torch.Tensor:
        self.points.collect(observation)
        threading.Event().wait(0.001)  # an agent acting at most 1000 times a second
        with self.model.unwrap() as module:
            self.versions.append(self.model.sync_version)
            self.shared.append(module.weight.is_shared())
            return module(observation)


class Regression(TorchTrainer):
    """Fits the linear model to y = 2 * sum(x)."""

    def __init__(self) -> None:
        super().__init__("points", min_buffer_size=8, min_new_data_count=4)
        self.pid = 0

    def on_training_models_attached(self) -> None:
        self.linear = self.get_torch_training_model("linear", nn.Linear)

    def on_data_users_attached(self) -> None:
        self.data = self.get_data_user("points")

    def create_optimizers(self) -> OptimizersSetup:
        return {"sgd": torch.optim.SGD(self.linear.model.parameters(), lr=0.05)}

    def train(self) -> None:
        self.pid = os.getpid()
        x = torch.stack(self.data.get_data()[-64:])
        loss = (self.linear(x).squeeze(1) - 2 * x.sum(1)).pow(2).mean()
        self.optimizers["sgd"].zero_grad()
        loss.backward()
        self.optimizers["sgd"].step()


class System:
    def __init__(self, buffer_size: int = 1000) -> None:
        self.agent = Predictor()
        self.model = TorchTrainingModel(nn.Linear(4, 1))
        self.trainer = Regression()
        self.buffer_size = buffer_size

    def launch(self, **config: Any) -> None:
        config.setdefault("web_api_address", None)
        launch(
            Interaction(self.agent, Points()),
            {"linear": self.model},
            {"points": SequentialBuffer[torch.Tensor](self.buffer_size)},
            {"regression": self.trainer},
            LaunchConfig(**config),
        )
