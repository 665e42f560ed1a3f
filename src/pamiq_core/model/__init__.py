"""Model interfaces and their containers."""

from .container import InferenceModelsDict, TrainingModelsDict
from .interface import InferenceModel, TrainingModel

__all__ = [
    "InferenceModel",
    "TrainingModel",
    "InferenceModelsDict",
    "TrainingModelsDict",
]
