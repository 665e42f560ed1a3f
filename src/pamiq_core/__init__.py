"""pamiq-core: agents that keep acting in real time while their models learn."""

from importlib import metadata

from . import interaction, model, time, utils
from .interaction import (
    Actuator,
    ActuatorsDict,
    ActuatorWrapper,
    Agent,
    Environment,
    EnvironmentWrapper,
    FixedIntervalInteraction,
    Interaction,
    IntervalAdjustor,
    LambdaWrapper,
    ModularEnvironment,
    Sensor,
    SensorsDict,
    SensorWrapper,
    SleepIntervalAdjustor,
    Wrapper,
)
from .model import InferenceModel, TrainingModel

__version__ = metadata.version(__name__.replace("_", "-"))

__all__ = [
    "interaction",
    "model",
    "time",
    "utils",
    "Interaction",
    "Agent",
    "Environment",
    "FixedIntervalInteraction",
    "IntervalAdjustor",
    "SleepIntervalAdjustor",
    "ModularEnvironment",
    "Sensor",
    "Actuator",
    "SensorsDict",
    "ActuatorsDict",
    "Wrapper",
    "LambdaWrapper",
    "SensorWrapper",
    "ActuatorWrapper",
    "EnvironmentWrapper",
    "TrainingModel",
    "InferenceModel",
]
