"""The control thread and the two background threads of a running system."""

from .base import BackgroundThread, Thread
from .control import ControlThread
from .inference import InferenceThread
from .training import TrainingThread

__all__ = [
    "Thread",
    "BackgroundThread",
    "ControlThread",
    "InferenceThread",
    "TrainingThread",
]
