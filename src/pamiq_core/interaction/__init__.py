"""Agents, environments and the interaction loop that connects them."""

from . import modular_env, wrappers
from .agent import Agent
from .env import Environment
from .interactions import FixedIntervalInteraction, Interaction
from .interval_adjustors import IntervalAdjustor, SleepIntervalAdjustor
from .modular_env import (
    Actuator,
    ActuatorsDict,
    ModularEnvironment,
    Sensor,
    SensorsDict,
)
from .wrappers import (
    ActuatorWrapper,
    EnvironmentWrapper,
    LambdaWrapper,
    SensorWrapper,
    Wrapper,
)

__all__ = [
    "Agent",
    "Environment",
    "modular_env",
    "wrappers",
    "Interaction",
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
]
