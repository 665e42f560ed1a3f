"""The control thread and the two background threads of a running system."""

from .base import BackgroundThread, Thread
from .control import ControlThread

__all__ = ["Thread", "BackgroundThread", "ControlThread"]
