"""Trainers: what the training thread runs."""

from .base import Trainer
from .container import TrainersDict

__all__ = ["Trainer", "TrainersDict"]
