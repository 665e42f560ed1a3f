"""pamiq-core: agents that keep acting in real time while their models learn."""

from importlib import metadata

from . import model
from .model import InferenceModel, TrainingModel

__version__ = metadata.version(__name__.replace("_", "-"))

__all__ = [
    "model",
    "TrainingModel",
    "InferenceModel",
]
