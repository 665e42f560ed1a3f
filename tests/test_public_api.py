"""The public API of PAMIQ-Core 0.6, name by name.

Each entry gives an import path and the parameters the spec lists, in order, with
their defaults. Our signatures must start with exactly those parameters; anything we
add after them must have a default, so code written for 0.6 calls ours unchanged.
Torch- and gymnasium-dependent names are checked in ``tests/torch`` and
``tests/gym``.
"""

import importlib
import inspect
import math
from typing import Any

import pytest

REQUIRED = inspect.Parameter.empty

# (module, name, [(parameter, default or REQUIRED), ...]); "*args"/"**kwds" for
# variadic parameters.
SIGNATURES: list[tuple[str, str, list[tuple[str, Any]]]] = [
    ("pamiq_core.model", "TrainingModel", [
        ("has_inference_model", True), ("inference_thread_only", False)]),
    ("pamiq_core.model", "TrainingModelsDict", [("*args", None), ("**kwds", None)]),
    ("pamiq_core.trainer", "Trainer", [
        ("training_condition_data_user", None), ("min_buffer_size", 0),
        ("min_new_data_count", 0)]),
    ("pamiq_core.data", "DataBuffer", [("max_queue_size", None)]),
    ("pamiq_core.data", "DataCollector", [("max_queue_size", REQUIRED)]),
    ("pamiq_core.data", "DataUser", [("buffer", REQUIRED)]),
    ("pamiq_core.data", "DataUsersDict", [("*args", None), ("**kwds", None)]),
    ("pamiq_core.data", "DataCollectorsDict", [("*args", None), ("**kwds", None)]),
    ("pamiq_core.data.interface", "TimestampingQueue", [("max_len", None)]),
    ("pamiq_core.data.impls", "SequentialBuffer", [("max_size", REQUIRED)]),
    ("pamiq_core.data.impls", "DictSequentialBuffer", [
        ("keys", REQUIRED), ("max_size", REQUIRED)]),
    ("pamiq_core.data.impls", "RandomReplacementBuffer", [
        ("max_size", REQUIRED), ("replace_probability", None),
        ("expected_survival_length", None)]),
    ("pamiq_core.data.impls", "DictRandomReplacementBuffer", [
        ("keys", REQUIRED), ("max_size", REQUIRED), ("replace_probability", None),
        ("expected_survival_length", None)]),
    ("pamiq_core.state_persistence", "StateStore", [
        ("states_dir", REQUIRED),
        ("state_name_format", "%Y-%m-%d_%H-%M-%S,%f.state")]),
    ("pamiq_core.state_persistence", "PeriodicSaveCondition", [("interval", REQUIRED)]),
    ("pamiq_core.state_persistence", "LatestStatesKeeper", [
        ("states_dir", REQUIRED), ("max_keep", REQUIRED),
        ("state_name_pattern", "*.state")]),
    ("pamiq_core.state_persistence", "save_pickle", [
        ("obj", REQUIRED), ("path", REQUIRED)]),
    ("pamiq_core.state_persistence", "load_pickle", [("path", REQUIRED)]),
    ("pamiq_core.interaction", "Agent", [("agents", None)]),
    ("pamiq_core.interaction", "Interaction", [
        ("agent", REQUIRED), ("environment", REQUIRED)]),
    ("pamiq_core.interaction", "FixedIntervalInteraction", [
        ("agent", REQUIRED), ("environment", REQUIRED), ("adjustor", REQUIRED)]),
    ("pamiq_core.interaction", "IntervalAdjustor", [
        ("interval", REQUIRED), ("offset", 0.0)]),
    ("pamiq_core.interaction", "SleepIntervalAdjustor", [
        ("interval", REQUIRED), ("offset", 0.0)]),
    ("pamiq_core.interaction", "ModularEnvironment", [
        ("sensor", REQUIRED), ("actuator", REQUIRED)]),
    ("pamiq_core.interaction", "LambdaWrapper", [("func", REQUIRED)]),
    ("pamiq_core.interaction", "SensorWrapper", [
        ("sensor", REQUIRED), ("wrapper", REQUIRED)]),
    ("pamiq_core.interaction", "ActuatorWrapper", [
        ("actuator", REQUIRED), ("wrapper", REQUIRED)]),
    ("pamiq_core.interaction", "EnvironmentWrapper", [
        ("env", REQUIRED), ("obs_wrapper", REQUIRED), ("act_wrapper", REQUIRED)]),
    ("pamiq_core.thread", "ReadOnlyController", [("controller", REQUIRED)]),
    ("pamiq_core.thread", "ThreadStatusesMonitor", [("statuses", REQUIRED)]),
    ("pamiq_core.thread.threads", "ControlThread", [
        ("state_store", REQUIRED), ("save_state_condition", None),
        ("states_keeper", None), ("timeout_for_all_threads_pause", 60.0),
        ("max_attempts_to_pause_all_threads", 3), ("max_uptime", math.inf),
        ("web_api_address", ("localhost", 8391)),
        ("web_api_command_queue_size", 1)]),
    ("pamiq_core.thread.threads", "InferenceThread", [
        ("interaction", REQUIRED), ("log_tick_time_statistics_interval", 60.0)]),
    ("pamiq_core.thread.threads", "TrainingThread", [("trainers", REQUIRED)]),
    ("pamiq_core.utils.schedulers", "TimeIntervalScheduler", [
        ("interval", REQUIRED), ("callbacks", None)]),
    ("pamiq_core.utils.schedulers", "StepIntervalScheduler", [
        ("interval", REQUIRED), ("callbacks", None)]),
    ("pamiq_core.utils.reflection", "get_class_module_path", [("cls", REQUIRED)]),
    ("pamiq_core.launcher", "launch", [
        ("interaction", REQUIRED), ("models", REQUIRED), ("buffers", REQUIRED),
        ("trainers", REQUIRED), ("config", None)]),
    ("pamiq_core.console", "SystemStatusProvider", [
        ("controller", REQUIRED), ("thread_statuses_monitor", REQUIRED)]),
    ("pamiq_core.console", "WebApiServer", [
        ("system_status", REQUIRED), ("host", "localhost"), ("port", 8391),
        ("max_queue_size", 1)]),
    ("pamiq_core.console", "WebApiClient", [("host", REQUIRED), ("port", REQUIRED)]),
    ("pamiq_core.console", "Console", [("host", REQUIRED), ("port", REQUIRED)]),
    ("pamiq_core.testing", "connect_components", [
        ("agent", None), ("trainers", None), ("buffers", None), ("models", None)]),
    ("pamiq_core.testing", "create_mock_models", [
        ("has_inference_model", True), ("inference_thread_only", False)]),
    ("pamiq_core.testing", "create_mock_buffer", [("max_queue_size", 1)]),
]  # fmt: skip


def parameters(obj: Any) -> list[inspect.Parameter]:
    target = obj.__init__ if inspect.isclass(obj) else obj
    found = list(inspect.signature(target).parameters.values())
    return found[1:] if inspect.isclass(obj) else found


def label(parameter: inspect.Parameter) -> str:
    if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
        return f"*{parameter.name}"
    if parameter.kind is inspect.Parameter.VAR_KEYWORD:
        return f"**{parameter.name}"
    return parameter.name


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    SIGNATURES,
    ids=[f"{module}.{name}" for module, name, _ in SIGNATURES],
)
def test_signature_starts_with_the_specs_parameters(
    module: str, name: str, expected: list[tuple[str, Any]]
) -> None:
    obj = getattr(importlib.import_module(module), name)
    found = parameters(obj)
    assert [label(p) for p in found[: len(expected)]] == [n for n, _ in expected]
    for parameter, (_, default) in zip(found, expected, strict=False):
        if not parameter.name.startswith("*") and default is not None:
            assert parameter.default == default, parameter.name
        elif default is None and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            assert parameter.default is None, parameter.name
    for extra in found[len(expected) :]:
        assert extra.default is not REQUIRED or extra.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ), f"added parameter {extra.name} must be optional"


ABSTRACT_METHODS: list[tuple[str, str, set[str]]] = [
    ("pamiq_core.model", "InferenceModel", {"infer"}),
    ("pamiq_core.model", "TrainingModel", {"_create_inference_model", "forward", "sync_impl"}),
    ("pamiq_core.trainer", "Trainer", {"train"}),
    ("pamiq_core.data", "DataBuffer", {"add", "get_data", "__len__"}),
    ("pamiq_core.state_persistence", "StatesKeeper", {"select_removal_states"}),
    ("pamiq_core.interaction", "Agent", {"step"}),
    ("pamiq_core.interaction", "Environment", {"observe", "affect"}),
    ("pamiq_core.interaction", "IntervalAdjustor", {"adjust_impl"}),
    ("pamiq_core.interaction", "Sensor", {"read"}),
    ("pamiq_core.interaction", "Actuator", {"operate"}),
    ("pamiq_core.utils.schedulers", "Scheduler", {"is_available", "update"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("module", "name", "abstract"),
    ABSTRACT_METHODS,
    ids=[f"{module}.{name}" for module, name, _ in ABSTRACT_METHODS],
)
def test_abstract_methods(module: str, name: str, abstract: set[str]) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert set(cls.__abstractmethods__) == abstract


MODULE_ALL: list[tuple[str, list[str]]] = [
    ("pamiq_core.model", ["InferenceModel", "TrainingModel", "InferenceModelsDict", "TrainingModelsDict"]),
    ("pamiq_core.trainer", ["Trainer", "TrainersDict"]),
    ("pamiq_core.data", ["impls", "DataBuffer", "DataCollector", "DataUser", "DataCollectorsDict", "DataUsersDict"]),
    ("pamiq_core.thread", ["ThreadTypes", "ThreadController", "ReadOnlyController", "ControllerCommandHandler", "ThreadStatus", "ReadOnlyThreadStatus", "ThreadStatusesMonitor", "ThreadEventMixin"]),
    ("pamiq_core.thread.threads", ["Thread", "BackgroundThread", "ControlThread", "InferenceThread", "TrainingThread"]),
    ("pamiq_core.utils", ["reflection", "schedulers"]),
    ("pamiq_core.console", ["Console", "SystemStatus", "SystemStatusProvider", "WebApiServer", "WebApiClient", "ControlCommands"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("module", "names"), MODULE_ALL, ids=[m for m, _ in MODULE_ALL]
)
def test_module_exports(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    assert imported.__all__ == names
    for name in names:
        assert getattr(imported, name) is not None


MODULE_LOCATIONS: list[tuple[str, list[str]]] = [
    ("pamiq_core.model.interface", ["InferenceModel", "TrainingModel"]),
    ("pamiq_core.model.container", ["InferenceModelsDict", "TrainingModelsDict"]),
    ("pamiq_core.trainer.base", ["Trainer"]),
    ("pamiq_core.trainer.container", ["TrainersDict"]),
    ("pamiq_core.data.buffer", ["DataBuffer"]),
    ("pamiq_core.data.interface", ["TimestampingQueue", "DataUser", "DataCollector"]),
    ("pamiq_core.data.container", ["DataUsersDict", "DataCollectorsDict"]),
    ("pamiq_core.data.impls.sequential_buffer", ["SequentialBuffer", "DictSequentialBuffer"]),
    ("pamiq_core.data.impls.random_replacement_buffer", ["RandomReplacementBuffer", "DictRandomReplacementBuffer"]),
    ("pamiq_core.state_persistence", ["PersistentStateMixin", "StateStore", "save_pickle", "load_pickle", "PeriodicSaveCondition", "StatesKeeper", "LatestStatesKeeper"]),
    ("pamiq_core.interaction.event_mixin", ["InteractionEventMixin"]),
    ("pamiq_core.thread.thread_types", ["ThreadTypes"]),
    ("pamiq_core.thread.thread_control", ["ThreadEventMixin", "ThreadController", "ReadOnlyController", "ControllerCommandHandler", "ThreadStatus", "ReadOnlyThreadStatus", "ThreadStatusesMonitor", "OnPausedCallback", "OnResumedCallback"]),
    ("pamiq_core.thread.threads.base", ["Thread", "BackgroundThread"]),
    ("pamiq_core.thread.threads.control", ["ControlThread"]),
    ("pamiq_core.thread.threads.inference", ["InferenceThread"]),
    ("pamiq_core.thread.threads.training", ["TrainingThread"]),
    ("pamiq_core.launcher", ["LaunchConfig", "launch"]),
    ("pamiq_core.utils.schedulers", ["Scheduler", "TimeIntervalScheduler", "StepIntervalScheduler", "Callback", "CallbackIterable"]),
    ("pamiq_core.console.system_status", ["SystemStatus", "SystemStatusProvider"]),
    ("pamiq_core.console.web_api", ["ControlCommands", "WebApiServer", "WebApiClient", "RESULT_OK", "ERROR_QUEUE_FULL", "ERROR_INVALID_ENDPOINT", "ERROR_INVALID_METHOD", "ERROR_INTERNAL_SERVER"]),
    ("pamiq_core.console.cui", ["Console", "main"]),
    ("pamiq_core.testing", ["ConnectedComponents", "connect_components", "create_mock_models", "create_mock_buffer"]),
    ("pamiq_core.time", ["TimeController", "get_global_time_controller", "is_paused", "sleep", "time", "perf_counter", "monotonic", "set_time_scale", "get_time_scale", "pause", "resume", "state_dict", "load_state_dict", "fixed_sleep", "fixed_time"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("module", "names"), MODULE_LOCATIONS, ids=[m for m, _ in MODULE_LOCATIONS]
)
def test_names_are_importable_from_their_modules(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert missing == []


GENERICS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("pamiq_core.data.impls", "SequentialBuffer", (10,), {}),
    ("pamiq_core.data.interface", "TimestampingQueue", (5,), {}),
    ("pamiq_core.data", "DataCollector", (8,), {}),
    ("pamiq_core.data.impls", "DictRandomReplacementBuffer", (["a"],), {"max_size": 3}),
]


@pytest.mark.parametrize(("module", "name", "args", "kwds"), GENERICS)
def test_generics_are_constructible_through_a_subscript(
    module: str, name: str, args: tuple[Any, ...], kwds: dict[str, Any]
) -> None:
    cls = getattr(importlib.import_module(module), name)
    instance = cls[Any](*args, **kwds)
    assert type(instance) is cls
