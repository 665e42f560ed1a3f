"""TorchAgent, and a trainer and an agent wired together as a system wires them."""

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pamiq_core.data import DataUsersDict
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.interaction import Agent
from pamiq_core.model import InferenceModel, InferenceModelsDict, TrainingModelsDict
from pamiq_core.torch import (
    OptimizersSetup,
    TorchAgent,
    TorchInferenceModel,
    TorchTrainer,
    TorchTrainingModel,
)
from pamiq_core.torch import agent as agent_module
from pamiq_core.trainer import TrainersDict


class Echo(InferenceModel):
    def infer(self, *args: Any, **kwds: Any) -> Any:
        return args


class Policy(TorchAgent[torch.Tensor, torch.Tensor]):
    """Acts with model 'policy' and collects what it saw into 'obs'."""

    def on_inference_models_attached(self) -> None:
        self.policy = self.get_torch_inference_model("policy", nn.Linear)

    def on_data_collectors_attached(self) -> None:
        self.collector = self.get_data_collector("obs")

    def step(self, observation: torch.Tensor) -> torch.Tensor:
        self.collector.collect(observation)
        return self.policy(observation)


def models_dict(**models: InferenceModel) -> InferenceModelsDict:
    return InferenceModelsDict(models)


class TestGetTorchInferenceModel:
    def test_exports_and_base(self) -> None:
        assert agent_module.__all__ == ["TorchAgent"]
        assert issubclass(TorchAgent, Agent)
        assert TorchAgent.__abstractmethods__ == {"step"}

    def test_subscriptable_and_constructible(self) -> None:
        class Leaf(TorchAgent[int, int]):
            def step(self, observation: int) -> int:
                return observation

        assert Leaf().step(3) == 3

    def test_returns_the_wrapper(self) -> None:
        wrapper = TorchTrainingModel(nn.Linear(2, 1)).inference_model
        agent = Policy()
        agent.attach_inference_models(models_dict(policy=wrapper))
        assert agent.policy is wrapper
        assert agent.get_torch_inference_model("policy") is wrapper
        assert (
            agent.get_torch_inference_model("policy", module_cls=nn.Module) is wrapper
        )

    def test_missing_model(self) -> None:
        agent = Policy()
        with pytest.raises(KeyError):
            agent.attach_inference_models(models_dict())

    def test_not_a_torch_model_is_a_value_error(self) -> None:
        agent = Policy()
        with pytest.raises(ValueError, match="TorchInferenceModel") as raised:
            agent.attach_inference_models(models_dict(policy=Echo()))
        # The spec's sentence first, then what to do.
        assert str(raised.value).startswith(
            "Model policy is not an instance of TorchInferenceModel. It is an Echo; "
        )

    def test_wrong_module_class_is_a_type_error(self) -> None:
        wrapper = TorchInferenceModel(nn.ReLU(), lambda m, x: m(x))
        agent = Policy()
        with pytest.raises(TypeError) as raised:
            agent.attach_inference_models(models_dict(policy=wrapper))
        assert str(raised.value).startswith(
            "Internal model is not an instance of Linear. Model 'policy' wraps a ReLU"
        )


class Regression(TorchTrainer):
    """Fits model 'policy' to y = sum(x) on the collected observations."""

    def __init__(self) -> None:
        super().__init__("obs", min_buffer_size=4, min_new_data_count=4)
        self.created = 0

    def on_training_models_attached(self) -> None:
        self.policy = self.get_torch_training_model("policy", nn.Linear)

    def on_data_users_attached(self) -> None:
        self.obs = self.get_data_user("obs")

    def create_optimizers(self) -> OptimizersSetup:
        self.created += 1
        return {"sgd": torch.optim.SGD(self.policy.model.parameters(), lr=0.1)}

    def train(self) -> None:
        x = torch.stack(self.obs.get_data())
        loss = F.mse_loss(self.policy(x), x.sum(dim=1, keepdim=True))
        optimizer = self.optimizers["sgd"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_the_agent_sees_the_trained_parameters_after_each_run() -> None:
    torch.manual_seed(0)
    policy = TorchTrainingModel(nn.Linear(3, 1))
    models = TrainingModelsDict(policy=policy)
    data_users = DataUsersDict.from_data_buffers(obs=SequentialBuffer[Any](64))
    trainers = TrainersDict(regression=Regression())
    trainers.attach_training_models(models)
    trainers.attach_data_users(data_users)
    agent = Policy()
    agent.attach_inference_models(models.inference_models_dict)
    agent.attach_data_collectors(data_users.data_collectors_dict)
    trainer = trainers["regression"]

    probe = torch.ones(3)
    assert not trainer.run()  # no data yet
    previous = agent.step(probe)
    for _ in range(10):
        for _ in range(4):
            agent.step(torch.randn(3))
        assert trainer.run()  # setup, train, sync_models, teardown
        with torch.no_grad():
            expected = policy.model(probe)
        acted = agent.step(probe)
        assert torch.equal(acted, expected)
        assert not torch.equal(acted, previous)
        previous = acted
        with agent.policy.unwrap() as module:
            assert torch.equal(module.weight, policy.model.weight)
            assert module.weight is not policy.model.weight
    assert isinstance(trainer, Regression)
    assert trainer.created == 1
