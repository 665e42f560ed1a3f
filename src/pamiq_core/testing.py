"""Helpers for testing your own components without starting any thread."""

from collections.abc import Mapping
from typing import Any, NamedTuple, cast
from unittest.mock import MagicMock, Mock

from pamiq_core.data import DataBuffer, DataCollectorsDict, DataUsersDict
from pamiq_core.interaction import Agent
from pamiq_core.model import (
    InferenceModel,
    InferenceModelsDict,
    TrainingModel,
    TrainingModelsDict,
)
from pamiq_core.trainer import Trainer, TrainersDict
from pamiq_core.utils.checks import require_instance


class ConnectedComponents(NamedTuple):
    """The containers :func:`connect_components` built and attached."""

    data_users: DataUsersDict
    data_collectors: DataCollectorsDict
    training_models: TrainingModelsDict
    inference_models: InferenceModelsDict


def connect_components(
    agent: Agent[Any, Any] | None = None,
    trainers: Trainer | Mapping[str, Trainer] | None = None,
    buffers: Mapping[str, DataBuffer[Any, Any]] | None = None,
    models: Mapping[str, TrainingModel[Any]] | None = None,
) -> ConnectedComponents:
    """Attach components to each other as :func:`pamiq_core.launch` does, without threads.

    The agent gets the data collectors, then the inference models; the trainers get
    the data users, then the training models. (``launch`` attaches models first;
    the order here is 0.6's, kept for compatibility, so attach hooks should not
    depend on each other.) A single trainer is named ``"trainer"``.

    Returns:
        The containers the components were attached to.

    Raises:
        TypeError: If a component is certainly of the wrong kind (a model among
            the buffers, a dict of models as the trainers, ...).
    """
    _check_kinds(agent, trainers, buffers, models)
    data_users = DataUsersDict.from_data_buffers(buffers or {})
    data_collectors = data_users.data_collectors_dict
    training_models = TrainingModelsDict(models or {})
    inference_models = training_models.inference_models_dict
    if agent is not None:
        agent.attach_data_collectors(data_collectors)
        agent.attach_inference_models(inference_models)
    if trainers is not None:
        if isinstance(trainers, Trainer):
            trainers = {"trainer": trainers}
        trainers_dict = TrainersDict(trainers)
        trainers_dict.attach_data_users(data_users)
        trainers_dict.attach_training_models(training_models)
    return ConnectedComponents(
        data_users, data_collectors, training_models, inference_models
    )


def _check_kinds(
    agent: object, trainers: object, buffers: object, models: object
) -> None:
    """Refuse components that are certainly of the wrong kind (see ``require_instance``)."""
    if agent is not None:
        require_instance(agent, Agent, "connect_components(agent=...)")
    if trainers is not None and not isinstance(trainers, Mapping):
        require_instance(trainers, Trainer, "connect_components(trainers=...)")
    named: dict[str, tuple[object, type]] = {
        "trainers": (trainers, Trainer),
        "buffers": (buffers, DataBuffer),
        "models": (models, TrainingModel),
    }
    for argument, (parts, kind) in named.items():
        if isinstance(parts, Mapping):
            for name, part in cast(Mapping[str, object], parts).items():
                where = f"connect_components({argument}=...)[{name!r}]"
                require_instance(part, kind, where)


def create_mock_models(
    has_inference_model: bool = True, inference_thread_only: bool = False
) -> tuple[Mock, Mock]:
    """A mock training model and a mock inference model, specced on the interfaces.

    The training mock carries the given flags and, if it has an inference model,
    returns the inference mock from ``inference_model``. The flags are not checked.

    Returns:
        ``(training_model, inference_model)``.
    """
    training_model = Mock(spec=TrainingModel)
    inference_model = Mock(spec=InferenceModel)
    training_model.has_inference_model = has_inference_model
    training_model.inference_thread_only = inference_thread_only
    if has_inference_model:
        training_model.inference_model = inference_model
    return training_model, inference_model


def create_mock_buffer(max_queue_size: int = 1) -> MagicMock:
    """A mock :class:`DataBuffer` (``len()`` works) with ``max_queue_size`` set."""
    buffer = MagicMock(spec=DataBuffer)
    buffer.max_queue_size = max_queue_size
    return buffer
