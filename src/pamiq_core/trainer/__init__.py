"""Trainers: what the training thread runs."""

from .base import Trainer, UnsyncedModelWarning
from .container import TrainersDict

__all__ = ["Trainer", "TrainersDict", "UnsyncedModelWarning"]
