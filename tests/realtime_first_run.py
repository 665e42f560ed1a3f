"""Which modules do the threads of a launched torch system import? (run as a child)

``python realtime_first_run.py STATES_DIR PREIMPORT`` launches an agent with a torch
policy and a ``TorchTrainer`` that does what trainers usually do in a first run
(two optimizers, an LR scheduler, forward, two losses, backward, gradient clipping,
optimizer and scheduler steps, then the sync), with ``preimport_torch`` set to
PREIMPORT (``1`` or ``0``). It prints, as JSON, the modules each thread other than
the main one imported, as an import audit hook saw them.
"""

import contextlib
import json
import sys
import threading
from typing import Any

import torch
from torch import nn

from pamiq_core import Environment, Interaction, LaunchConfig, launch
from pamiq_core.torch import (
    OptimizersSetup,
    TorchAgent,
    TorchTrainer,
    TorchTrainingModel,
)


class Finished(Exception):
    """Raised after the trainer's first run, to stop the system."""


class Sensor(Environment[torch.Tensor, int]):
    def observe(self) -> torch.Tensor:
        return torch.randn(1, 8)

    def affect(self, action: int) -> None:
        pass


class PolicyAgent(TorchAgent[torch.Tensor, int]):
    def __init__(self) -> None:
        super().__init__()
        self.stepped = threading.Event()

    def on_inference_models_attached(self) -> None:
        self.policy = self.get_torch_inference_model("policy")

    def step(self, observation: torch.Tensor) -> int:
        action = int(self.policy(observation).argmax())
        self.stepped.set()
        return action


class FirstRunTrainer(TorchTrainer):
    def __init__(self, agent: PolicyAgent) -> None:
        super().__init__()
        self.agent = agent

    def on_training_models_attached(self) -> None:
        self.policy = self.get_torch_training_model("policy")

    def create_optimizers(self) -> OptimizersSetup:
        parameters = list(self.policy.model.parameters())
        adam = torch.optim.AdamW(parameters[:2], lr=1e-3)
        sgd = torch.optim.SGD(parameters[2:], lr=1e-2, momentum=0.9)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(adam, 100)
        return {"adam": adam, "sgd": sgd}, {"adam": schedule}

    def train(self) -> None:
        self.agent.stepped.wait(60.0)  # the agent's first step is in the record too
        x = torch.randn(32, 8)
        target = torch.randint(0, 4, (32,))
        output = self.policy(x)
        loss = nn.functional.cross_entropy(output, target)
        loss = loss + nn.functional.mse_loss(output, torch.zeros_like(output))
        for optimizer in self.optimizers.values():
            optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.policy.model.parameters(), 1.0)
        for optimizer in self.optimizers.values():
            optimizer.step()
        self.lr_schedulers["adam"].step()

    def teardown(self) -> None:
        super().teardown()
        raise Finished


def main() -> None:
    states_dir, preimport = sys.argv[1], sys.argv[2] == "1"
    imports: dict[str, list[str]] = {}

    def audit(event: str, args: tuple[Any, ...]) -> None:
        thread = threading.current_thread()
        if event == "import" and thread is not threading.main_thread():
            imports.setdefault(thread.name, []).append(str(args[0]))

    agent = PolicyAgent()
    model = TorchTrainingModel(
        nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    )
    sys.addaudithook(audit)
    with contextlib.suppress(Finished):  # the trainer stops the system
        launch(
            Interaction(agent, Sensor()),
            {"policy": model},
            {},
            {"first_run": FirstRunTrainer(agent)},
            LaunchConfig(
                states_dir=states_dir, web_api_address=None, preimport_torch=preimport
            ),
        )
    print(json.dumps(imports))


if __name__ == "__main__":
    main()
