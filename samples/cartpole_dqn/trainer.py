"""The DQN trainer: fits the Q-network to bootstrapped targets from the replay buffer."""

import json
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from typing_extensions import override

from pamiq_core.data.impls import DictRingBuffer
from pamiq_core.torch import OptimizersSetup, TorchTrainer

from .network import QNetwork


class DQNTrainer(TorchTrainer):
    """Double DQN with a target network that is refreshed every few hundred steps.

    A run starts once ``min_buffer_size`` transitions are stored and whenever
    ``new_per_run`` new ones have arrived; it takes ``steps_per_run`` gradient steps
    on random batches. Each step regresses Q(s, a) on
    ``r + gamma * Q_target(s', argmax_a' Q(s', a'))`` (no bootstrap after a
    termination; a truncation at the time limit still bootstraps) with the Huber
    loss and Adam. Every ``target_refresh`` gradient steps the target network
    (training-only model ``"q_target"``) gets a copy of the Q-network's weights.
    After each run pamiq-core syncs the Q-network into the agent.
    """

    def __init__(
        self,
        batch_size: int = 64,
        steps_per_run: int = 4,
        new_per_run: int = 4,
        min_buffer_size: int = 1000,
        learning_rate: float = 1e-3,
        gamma: float = 0.99,
        target_refresh: int = 250,
        target_tau: float = 0.0,
    ) -> None:
        super().__init__(
            "transitions",
            min_buffer_size=min_buffer_size,
            min_new_data_count=new_per_run,
        )
        if steps_per_run < 1:
            raise ValueError(f"steps_per_run must be at least 1, got {steps_per_run}")
        self.batch_size = batch_size
        self.steps_per_run = steps_per_run
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.target_refresh = target_refresh
        self.target_tau = target_tau
        self.training_runs = 0
        self.gradient_steps = 0
        self.target_refreshes = 0
        self.last_loss = float("nan")

    @override
    def on_training_models_attached(self) -> None:
        self.q = self.get_torch_training_model("q", QNetwork)
        self.q_target = self.get_torch_training_model("q_target", QNetwork)

    @override
    def on_data_users_attached(self) -> None:
        self.transitions = self.get_data_user("transitions")

    @override
    def on_system_start(self) -> None:
        self.log_hparams(
            {
                "batch_size": self.batch_size,
                "steps_per_run": self.steps_per_run,
                "learning_rate": self.learning_rate,
                "gamma": self.gamma,
                "target_refresh": self.target_refresh,
                "target_tau": self.target_tau,
            }
        )

    @override
    def create_optimizers(self) -> OptimizersSetup:
        return {"adam": torch.optim.Adam(self.q.model.parameters(), self.learning_rate)}

    @override
    def train(self) -> None:
        buffer = cast(DictRingBuffer[Any], self.transitions.buffer)
        q, target, optimizer = (
            self.q.model,
            self.q_target.model,
            self.optimizers["adam"],
        )
        loss = torch.tensor(float("nan"))
        for _ in range(self.steps_per_run):
            batch = {
                k: torch.from_numpy(v)
                for k, v in buffer.sample(self.batch_size).items()
            }
            with torch.no_grad():
                next_action = q(batch["next_obs"]).argmax(dim=1, keepdim=True)
                next_value = target(batch["next_obs"]).gather(1, next_action)[:, 0]
                wanted = (
                    batch["reward"]
                    + self.gamma * (1.0 - batch["terminal"]) * next_value
                )
            value = q(batch["obs"]).gather(1, batch["action"][:, None])[:, 0]
            loss = nn.functional.smooth_l1_loss(value, wanted)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(q.parameters(), 10.0)
            optimizer.step()
            self.gradient_steps += 1
            if self.target_tau > 0:
                with torch.no_grad():
                    for t, p in zip(target.parameters(), q.parameters(), strict=True):
                        t.lerp_(p, self.target_tau)
            elif self.gradient_steps % self.target_refresh == 0:
                target.load_state_dict(q.state_dict())
                self.target_refreshes += 1
        self.last_loss = loss.item()
        self.log_scalar("loss", self.last_loss)  # of the run's last step
        self.training_runs += 1

    COUNTERS = ("training_runs", "gradient_steps", "target_refreshes", "last_loss")

    @override
    def save_state(self, path: Path) -> None:
        """Save the optimizer and the counters (the target refresh follows them)."""
        super().save_state(path)
        counters = {name: getattr(self, name) for name in self.COUNTERS}
        (path / "counters.json").write_text(json.dumps(counters), encoding="utf-8")

    @override
    def load_state(self, path: Path) -> None:
        super().load_state(path)
        saved = path / "counters.json"
        if saved.is_file():  # snapshots of earlier versions of the sample have none
            for name, value in json.loads(saved.read_text(encoding="utf-8")).items():
                setattr(self, name, value)
