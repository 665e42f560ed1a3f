"""A 0.6 snapshot of torch models, optimizers and LR schedulers resumes on ours."""

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pamiq_core import Agent, Environment, Interaction, LaunchConfig, launch
from pamiq_core import time as pamiq_time
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.torch import OptimizersSetup, TorchTrainer, TorchTrainingModel

from .legacy_06 import write_06_snapshot


class Still(Environment[int, int]):
    def observe(self) -> int:
        return 0

    def affect(self, action: int) -> None:
        pass


class Quiet(Agent[int, int]):
    def step(self, observation: int) -> int:
        return observation


class OneStepTrainer(TorchTrainer):
    """Trains once, so the loaded optimizer and scheduler states are applied."""

    def __init__(self) -> None:
        super().__init__("numbers", min_buffer_size=1)
        self.steps_seen: list[int] = []
        self.learning_rates: list[float] = []

    def on_training_models_attached(self) -> None:
        self.policy = self.get_torch_training_model("policy", nn.Linear)

    def create_optimizers(self) -> OptimizersSetup:
        adam = torch.optim.Adam(self.policy.model.parameters(), lr=0.1)
        decay = torch.optim.lr_scheduler.StepLR(adam, step_size=1, gamma=0.5)
        return {"adam": adam}, {"decay": decay}

    def train(self) -> None:
        if self.steps_seen:
            return
        adam = self.optimizers["adam"]
        self.learning_rates.append(adam.param_groups[0]["lr"])
        self.policy(torch.ones(1, 2)).sum().backward()
        adam.step()
        state = adam.state_dict()["state"][0]
        self.steps_seen.append(int(state["step"]))


@pytest.fixture(autouse=True)
def restore_clock() -> Any:
    state = pamiq_time.state_dict()
    yield
    pamiq_time.load_state_dict(state)


def test_torch_models_optimizers_and_schedulers_saved_by_06_resume(
    tmp_path: Path,
) -> None:
    saved_module = nn.Linear(2, 1)
    with torch.no_grad():
        saved_module.weight.fill_(0.75)
    saved_optimizer = torch.optim.Adam(saved_module.parameters(), lr=0.1)
    saved_scheduler = torch.optim.lr_scheduler.StepLR(saved_optimizer, 1, gamma=0.5)
    for _ in range(3):  # three steps: Adam's step count 3, the LR halved 3 times
        saved_optimizer.zero_grad()
        saved_module(torch.ones(1, 2)).sum().backward()
        saved_optimizer.step()
        saved_scheduler.step()

    folder = write_06_snapshot(
        tmp_path / "states" / "old.state",
        models={},
        buffers={"numbers": ([1, 2], [1.0, 2.0])},
        trainers={"learner": float("-inf")},
        interaction={},
        time_state={
            "scaled_anchor_time": pamiq_time.time(),
            "scaled_anchor_monotonic": pamiq_time.monotonic(),
            "scaled_anchor_perf_counter": pamiq_time.perf_counter(),
        },
    )
    torch.save(saved_module.state_dict(), f"{folder / 'models' / 'policy'}.pt")
    learner = folder / "trainers" / "learner"
    torch.save(saved_optimizer.state_dict(), learner / "adam.optim.pt")
    torch.save(saved_scheduler.state_dict(), learner / "decay.lrsch.pt")

    policy = TorchTrainingModel(nn.Linear(2, 1))
    trainer = OneStepTrainer()
    launch(
        Interaction(Quiet(), Still()),
        {"policy": policy},
        {"numbers": SequentialBuffer[int](10)},
        {"learner": trainer},
        LaunchConfig(
            web_api_address=None,
            max_uptime=0.5,
            states_dir=tmp_path / "states",
            saved_state_path=folder,
        ),
    )
    assert trainer.steps_seen == [4]  # Adam went on from step 3
    assert trainer.learning_rates == [pytest.approx(0.1 * 0.5**3)]
    # the same fourth step taken by the objects that were saved
    saved_optimizer.zero_grad()
    saved_module(torch.ones(1, 2)).sum().backward()
    saved_optimizer.step()
    assert torch.equal(policy.model.weight.detach(), saved_module.weight.detach())
    with policy.inference_model.unwrap() as module:
        assert torch.equal(module.weight, saved_module.weight.detach())
