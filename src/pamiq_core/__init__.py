"""pamiq-core: agents that keep acting in real time while their models learn."""

from importlib import metadata

from . import data, model, trainer
from .data import DataBuffer, DataCollector, DataUser
from .model import InferenceModel, TrainingModel
from .trainer import Trainer

__version__ = metadata.version(__name__.replace("_", "-"))

__all__ = [
    "data",
    "model",
    "trainer",
    "DataBuffer",
    "DataCollector",
    "DataUser",
    "TrainingModel",
    "InferenceModel",
    "Trainer",
]
