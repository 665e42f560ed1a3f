"""Lock-step mode with torch: parameters, optimizer state, buffers and logs repeat."""

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pamiq_core import Agent, Environment, Interaction, LaunchConfig, launch, time
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.seeding import seed_everything
from pamiq_core.state_persistence import find_latest_state
from pamiq_core.torch import (
    OptimizersSetup,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)
from pamiq_core.tracking import CSVLogger

sys.path.insert(0, str(Path(__file__).parents[1]))
from runtime.lockstep_system import follow_the_real_clocks


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)
    follow_the_real_clocks()


def network() -> nn.Module:
    # Dropout draws from torch's global generator during training.
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 1))


class Wave(Environment[torch.Tensor, torch.Tensor]):
    """Observations from torch's global generator; the state is the last action."""

    def __init__(self) -> None:
        super().__init__()
        self.last = torch.zeros(1)

    def observe(self) -> torch.Tensor:
        return torch.cat([torch.randn(2), self.last])

    def affect(self, action: torch.Tensor) -> None:
        self.last = action.detach().reshape(1)

    def save_state(self, path: Path) -> None:
        torch.save(self.last, f"{path}.pt")

    def load_state(self, path: Path) -> None:
        self.last = torch.load(f"{path}.pt")


class Actor(Agent[torch.Tensor, torch.Tensor]):
    def on_inference_models_attached(self) -> None:
        self.model: TorchInferenceModel[nn.Module] = self.get_inference_model("net")  # type: ignore[assignment]

    def on_data_collectors_attached(self) -> None:
        self.samples: DataCollector[dict[str, Any]] = self.get_data_collector("samples")

    def step(self, observation: torch.Tensor) -> torch.Tensor:
        action = self.model(observation[None])[0] + 0.1 * torch.randn(1)
        target = observation[:2].sum(0, keepdim=True)
        self.samples.collect({"x": observation, "y": target})
        self.log_scalar("action", float(action))
        return action


class Fit(TorchTrainer):
    def __init__(self) -> None:
        super().__init__("samples", min_buffer_size=8, min_new_data_count=4)

    def on_training_models_attached(self) -> None:
        self.net = self.get_torch_training_model("net")

    def on_data_users_attached(self) -> None:
        self.samples = self.get_data_user("samples")

    def create_optimizers(self) -> OptimizersSetup:
        return {"adam": torch.optim.Adam(self.net.model.parameters(), lr=1e-2)}

    def train(self) -> None:
        buffer: DictRingBuffer[torch.Tensor] = self.samples.buffer  # type: ignore[assignment]
        self.net.model.train()
        loss = torch.zeros(())
        for _ in range(3):
            batch = buffer.sample(8)
            loss = (self.net.model(batch["x"]) - batch["y"]).pow(2).mean()
            self.optimizers["adam"].zero_grad()
            loss.backward()
            self.optimizers["adam"].step()
        self.log_scalar("loss", loss.item())


def build() -> dict[str, Any]:
    seed_everything(0)  # the network's initial weights (launch seeds again later)
    return {
        "interaction": Interaction(Actor(), Wave()),
        "models": {"net": TorchTrainingModel(network())},
        "buffers": {
            "samples": DictRingBuffer(
                {"x": ((3,), "float32"), "y": ((1,), "float32")},
                max_size=32,
                backend="torch",
            )
        },
        "trainers": {"fit": Fit()},
    }


def run(system: dict[str, Any], states: Path, csv_path: Path, **options: Any) -> Path:
    launch(
        **system,
        config=LaunchConfig(
            states_dir=states,
            web_api_address=None,
            training="lockstep",
            seed=17,
            loggers=[CSVLogger(csv_path)],
            **options,
        ),
    )
    final = find_latest_state(states)
    assert final is not None
    return final


def fingerprint(system: dict[str, Any]) -> dict[str, Any]:
    model: TorchTrainingModel[nn.Module] = system["models"]["net"]
    trainer: Fit = system["trainers"]["fit"]
    optimizer = trainer.optimizers["adam"].state_dict()
    moments = [
        (k, v["exp_avg"].numpy().tobytes(), v["exp_avg_sq"].numpy().tobytes())
        for k, v in optimizer["state"].items()
    ]
    return {
        "parameters": {
            k: v.numpy().tobytes() for k, v in model.model.state_dict().items()
        },
        "inference": {
            k: v.numpy().tobytes()
            for k, v in model.inference_model._raw_model.state_dict().items()  # pyright: ignore[reportPrivateUsage]
        },
        "adam": moments,
        "buffer": {
            k: v.numpy().tobytes()
            for k, v in system["buffers"]["samples"].get_data().items()
        },
        "last_action": system["interaction"].environment.last.numpy().tobytes(),
        "global_step": trainer.global_step,
    }


def logged(path: Path) -> list[tuple[str, str, str]]:
    with path.open(newline="") as file:
        return [(r["step"], r["name"], r["value"]) for r in csv.DictReader(file)]


def test_two_runs_with_the_same_seed_are_bit_identical(tmp_path: Path) -> None:
    first, second = build(), build()
    run(first, tmp_path / "a", tmp_path / "a.csv", max_steps=200, train_every=2)
    run(second, tmp_path / "b", tmp_path / "b.csv", max_steps=200, train_every=2)
    assert first["trainers"]["fit"].global_step > 10
    assert fingerprint(first) == fingerprint(second)
    assert logged(tmp_path / "a.csv") == logged(tmp_path / "b.csv")


def test_a_run_resumed_at_step_k_equals_an_uninterrupted_run_to_step_n(
    tmp_path: Path,
) -> None:
    whole = build()
    run(whole, tmp_path / "whole", tmp_path / "whole.csv", max_steps=200)
    part = build()
    snapshot = run(part, tmp_path / "parts", tmp_path / "parts.csv", max_steps=83)
    rest = build()
    run(
        rest,
        tmp_path / "parts",
        tmp_path / "parts.csv",
        max_steps=117,
        saved_state_path=snapshot,
    )
    assert fingerprint(rest) == fingerprint(whole)
    assert logged(tmp_path / "parts.csv") == logged(tmp_path / "whole.csv")
