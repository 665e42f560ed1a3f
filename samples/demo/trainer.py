"""The trainer: fits the predictor to transitions sampled from the ring buffer."""

from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from typing_extensions import override

from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.torch import OptimizersSetup, TorchTrainer

from .predictor import Predictor, features, targets


class DynamicsTrainer(TorchTrainer):
    """Each run takes ``steps_per_run`` Adam steps on random batches of transitions."""

    def __init__(self, batch_size: int = 128, steps_per_run: int = 16) -> None:
        super().__init__(
            "transitions", min_buffer_size=batch_size, min_new_data_count=8
        )
        self.batch_size = batch_size
        self.steps_per_run = steps_per_run
        self.learning_rate = 3e-3
        self.last_loss = float("nan")

    @override
    def on_training_models_attached(self) -> None:
        self.predictor = self.get_torch_training_model("dynamics", Predictor)

    @override
    def on_data_users_attached(self) -> None:
        self.transitions = self.get_data_user("transitions")

    @override
    def create_optimizers(self) -> OptimizersSetup:
        return {
            "adam": torch.optim.Adam(
                self.predictor.model.parameters(), lr=self.learning_rate
            )
        }

    @override
    def on_system_start(self) -> None:
        self.log_hparams(
            {
                "batch_size": self.batch_size,
                "steps_per_run": self.steps_per_run,
                "learning_rate": self.learning_rate,
            }
        )

    @override
    def train(self) -> None:
        buffer = cast(DictRingBuffer[Any], self.transitions.buffer)
        model, optimizer = self.predictor.model, self.optimizers["adam"]
        total = 0.0
        for _ in range(self.steps_per_run):
            batch = buffer.sample(self.batch_size)
            inputs = features(batch["state"], batch["action"])
            wanted = targets(batch["state"], batch["next_state"])
            loss = nn.functional.mse_loss(
                model(torch.from_numpy(inputs)), torch.from_numpy(wanted)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            self.last_loss = loss.item()
            total += self.last_loss
        self.log_scalar("loss", total / self.steps_per_run)  # at global_step

    @override
    def save_state(self, path: Path) -> None:
        super().save_state(path)
        (path / "last_loss").write_text(repr(self.last_loss), encoding="utf-8")

    @override
    def load_state(self, path: Path) -> None:
        super().load_state(path)
        saved = path / "last_loss"
        if saved.is_file():  # snapshots of earlier versions of the demo have none
            self.last_loss = float(saved.read_text(encoding="utf-8"))
