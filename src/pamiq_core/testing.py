"""Helpers for testing your own components, with or without a running system."""

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast
from unittest.mock import MagicMock, Mock

from pamiq_core.data import DataBuffer, DataCollectorsDict, DataUsersDict
from pamiq_core.interaction import Agent, Interaction
from pamiq_core.launcher import LaunchConfig, launch
from pamiq_core.model import (
    InferenceModel,
    InferenceModelsDict,
    TrainingModel,
    TrainingModelsDict,
)
from pamiq_core.state_persistence import find_latest_state, load_pickle
from pamiq_core.tracking import HParamValue, RunInfo, ScalarRecord
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


class LoggedScalar(NamedTuple):
    """A value a component logged: its namespaced name, value and step."""

    name: str
    value: float
    step: int


@dataclass
class LockstepRun:
    """A system :func:`run_lockstep` ran, for inspection.

    Attributes:
        interaction: The interaction it stepped (the very object passed).
        models: The training models, by name.
        buffers: The buffers, by name.
        trainers: The trainers, by name.
        scalars: Every value the components logged, in order (without wall times,
            which differ from run to run).
        time: Pamiq (virtual) time when the run stopped.
        state_path: The final snapshot, to resume from; None when the run had no
            ``states_dir`` (its snapshots were removed).
    """

    interaction: Interaction[Any, Any]
    models: dict[str, TrainingModel[Any]]
    buffers: dict[str, DataBuffer[Any, Any]]
    trainers: dict[str, Trainer]
    scalars: list[LoggedScalar] = field(default_factory=list[LoggedScalar])
    time: float = 0.0
    state_path: Path | None = None


class _ScalarRecorder:
    """A tracking logger that keeps every scalar in memory."""

    def __init__(self) -> None:
        self.scalars: list[LoggedScalar] = []

    def open(self, run: RunInfo) -> None:
        pass

    def write(self, records: Sequence[ScalarRecord]) -> None:
        self.scalars.extend(
            LoggedScalar(name, value, step) for name, value, step, _ in records
        )

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_lockstep(
    interaction: Interaction[Any, Any],
    models: Mapping[str, TrainingModel[Any]] | None = None,
    buffers: Mapping[str, DataBuffer[Any, Any]] | None = None,
    trainers: Mapping[str, Trainer] | None = None,
    *,
    steps: int,
    train_every: int = 1,
    seed: int | None = 0,
    states_dir: str | Path | None = None,
    saved_state_path: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
) -> LockstepRun:
    """Launch a system in lock-step mode for ``steps`` agent steps; return it.

    The system runs as :func:`pamiq_core.launch` runs it with
    ``training="lockstep"``: the same threads, saving and loading, in virtual time,
    without the web API. With the same ``seed`` (0 by default) two calls give the
    same results, bit for bit; a run resumed from ``state_path`` continues exactly.
    It stops earlier only if the system does (``max_uptime`` in ``config``, a
    Ctrl-C); an error in the system is raised here.

    Args:
        interaction: The agent and environment.
        models: Training models by name.
        buffers: Buffers by name.
        trainers: Trainers by name, run in this order.
        steps: Agent steps to take.
        train_every: Agent steps between two rounds of trainers.
        seed: ``LaunchConfig.seed``; None seeds nothing.
        states_dir: Where to save snapshots (the final one at least); None uses a
            temporary directory, removed before returning.
        saved_state_path: A snapshot to resume from (or ``"latest"``).
        config: Other :class:`~pamiq_core.LaunchConfig` fields, such as
            ``max_uptime`` or ``loggers``.

    Raises:
        ValueError: If ``steps`` is negative, or a config value is invalid.
        TypeError: If ``config`` has unknown keys.
        Exception: Whatever the system raised.
    """
    given = cast(object, steps)  # checked as given, whatever its type
    if isinstance(given, bool) or not isinstance(given, int) or given < 0:
        raise ValueError(f"run_lockstep(steps=...) must be an int >= 0, got {steps!r}.")
    models = dict(models or {})
    buffers = dict(buffers or {})
    trainers = dict(trainers or {})
    recorder = _ScalarRecorder()
    options: dict[str, Any] = {"web_api_address": None, **(config or {})}
    options["loggers"] = [*options.get("loggers", ()), recorder]
    with tempfile.TemporaryDirectory(prefix="pamiq-lockstep-") as temporary:
        options.update(
            states_dir=temporary if states_dir is None else states_dir,
            saved_state_path=saved_state_path,
            training="lockstep",
            train_every=train_every,
            max_steps=steps,
            seed=seed,
        )
        launch_config = LaunchConfig(**options)
        launch(interaction, models, buffers, trainers, launch_config)
        final = find_latest_state(launch_config.states_dir)
        assert final is not None, "launch() returns only after its final save"
        clocks = load_pickle(final / "time.pkl")
        return LockstepRun(
            interaction,
            models,
            buffers,
            trainers,
            scalars=recorder.scalars,
            time=float(clocks["scaled_anchor_time"]),
            state_path=None if states_dir is None else final,
        )
