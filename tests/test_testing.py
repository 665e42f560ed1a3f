"""The testing helpers, each used the way a user's test would use it."""

from typing import Any
from unittest.mock import MagicMock

import pytest

from pamiq_core import Agent, DataBuffer, InferenceModel, Trainer, TrainingModel
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import SequentialBuffer
from pamiq_core.testing import (
    ConnectedComponents,
    connect_components,
    create_mock_buffer,
    create_mock_models,
)


class Recorder(Agent[int, int]):
    def on_inference_models_attached(self) -> None:
        self.model = self.get_inference_model("policy")

    def on_data_collectors_attached(self) -> None:
        self.collector: DataCollector[int] = self.get_data_collector("steps")

    def step(self, observation: int) -> int:
        self.collector.collect(observation)
        return self.model(observation)


class Summer(Trainer):
    def on_training_models_attached(self) -> None:
        self.policy = self.get_training_model("policy")

    def on_data_users_attached(self) -> None:
        self.steps = self.get_data_user("steps")

    def train(self) -> None:
        self.total = sum(self.steps.get_data())


class TestConnectComponents:
    def test_wires_an_agent_and_a_trainer_like_launch(self) -> None:
        training_model, inference_model = create_mock_models()
        inference_model.return_value = 7
        agent, trainer = Recorder(), Summer()
        connected = connect_components(
            agent=agent,
            trainers=trainer,
            buffers={"steps": SequentialBuffer[int](10)},
            models={"policy": training_model},
        )
        assert isinstance(connected, ConnectedComponents)
        assert agent.step(3) == 7
        agent.step(4)
        assert trainer.run()
        assert trainer.total == 7
        assert trainer.policy is training_model
        training_model.sync.assert_called_once_with()

    def test_returns_the_containers_in_order(self) -> None:
        training_model, inference_model = create_mock_models()
        data_users, collectors, training_models, inference_models = connect_components(
            buffers={"steps": SequentialBuffer[int](3)},
            models={"policy": training_model},
        )
        assert collectors is data_users.data_collectors_dict
        assert inference_models is training_models.inference_models_dict
        assert inference_models["policy"] is inference_model

    def test_accepts_a_mapping_of_trainers(self) -> None:
        first, second = Summer(), Summer()
        training_model, _ = create_mock_models()
        connect_components(
            trainers={"a": first, "b": second},
            buffers={"steps": SequentialBuffer[int](3)},
            models={"policy": training_model},
        )
        assert first.policy is second.policy is training_model

    def test_with_nothing_gives_empty_containers(self) -> None:
        connected = connect_components()
        assert all(len(container) == 0 for container in connected)


class TestCreateMockModels:
    def test_mocks_pass_isinstance_checks(self) -> None:
        training_model, inference_model = create_mock_models()
        assert isinstance(training_model, TrainingModel)
        assert isinstance(inference_model, InferenceModel)
        assert training_model.inference_model is inference_model
        assert training_model.has_inference_model is True
        assert training_model.inference_thread_only is False

    def test_flags_are_set_as_given(self) -> None:
        training_model, inference_model = create_mock_models(has_inference_model=False)
        assert training_model.has_inference_model is False
        assert training_model.inference_model is not inference_model

    def test_inference_thread_only(self) -> None:
        training_model, _ = create_mock_models(inference_thread_only=True)
        assert training_model.inference_thread_only is True


class TestCreateMockBuffer:
    @pytest.mark.parametrize("size", [1, 64])
    def test_is_a_sized_buffer_mock(self, size: int) -> None:
        buffer: Any = create_mock_buffer(size)
        assert isinstance(buffer, MagicMock)
        assert isinstance(buffer, DataBuffer)
        assert buffer.max_queue_size == size
        buffer.__len__.return_value = 5
        assert len(buffer) == 5

    def test_works_as_a_buffer_in_connect_components(self) -> None:
        buffer = create_mock_buffer(4)
        data_users, *_ = connect_components(buffers={"steps": buffer})
        data_users["steps"].get_data()
        buffer.get_data.assert_called_once_with()
