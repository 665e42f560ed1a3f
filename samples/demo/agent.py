"""The agent: explores the pendulum and keeps score of its model's predictions."""

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from typing_extensions import override

from pamiq_core import time
from pamiq_core.data import DataCollector
from pamiq_core.state_persistence import load_pickle, save_pickle
from pamiq_core.torch import TorchAgent, TorchInferenceModel

from .pendulum import MAX_TORQUE
from .predictor import Predictor, features, next_state_from, prediction_error

logger = logging.getLogger("demo")


class ExploringPredictor(TorchAgent[NDArray[np.float32], float]):
    """Pushes the pendulum with smooth random torques and predicts each next state.

    Every step it compares the previous prediction with what happened, collects the
    transition for the trainer, and every ``report_interval`` pamiq seconds logs
    the prediction error now against the error of the untrained model.
    """

    def __init__(self, report_interval: float = 2.0, seed: int = 0) -> None:
        super().__init__()
        self.report_interval = report_interval
        self.rng = np.random.default_rng(seed)
        self.torque = 0.0
        self.previous: tuple[NDArray[np.float32], float, NDArray[np.float32]] | None = (
            None
        )
        self.steps = 0
        self.first_errors: list[float] = []  # of the untrained model
        self.recent_errors: list[float] = []
        self.next_report = math.inf
        self.steps_at_report = 0
        self.real_time_at_report = 0.0

    @override
    def on_inference_models_attached(self) -> None:
        self.model: TorchInferenceModel[Predictor] = self.get_torch_inference_model(
            "dynamics", Predictor
        )

    @override
    def on_data_collectors_attached(self) -> None:
        self.transitions: DataCollector[dict[str, Any]] = self.get_data_collector(
            "transitions"
        )

    @override
    def setup(self) -> None:
        super().setup()
        self.next_report = time.time() + self.report_interval
        self.steps_at_report = self.steps
        self.real_time_at_report = time.fixed_perf_counter()

    @override
    def step(self, observation: NDArray[np.float32]) -> float:
        if self.previous is not None:
            state, action, predicted = self.previous
            error = prediction_error(predicted, observation)
            self.log_scalar("prediction_error", error)
            if len(self.first_errors) < 100:
                self.first_errors.append(error)
            self.recent_errors.append(error)
            self.transitions.collect(
                {
                    "state": state,
                    "action": np.float32(action),
                    "next_state": observation,
                }
            )
        # Ornstein-Uhlenbeck exploration: smooth, random pushes.
        self.torque += 0.15 * (0.0 - self.torque) + 0.6 * float(self.rng.normal())
        action = max(-MAX_TORQUE, min(MAX_TORQUE, self.torque))
        output = self.model(torch.from_numpy(features(observation, action))[None])
        predicted = next_state_from(observation, output[0].numpy())
        self.previous = (observation, action, predicted)
        self.steps += 1
        if time.time() >= self.next_report:
            self.report()
        return action

    def report(self) -> None:
        now = time.fixed_perf_counter()
        rate = (self.steps - self.steps_at_report) / max(
            now - self.real_time_at_report, 1e-9
        )
        start = float(np.mean(self.first_errors)) if self.first_errors else math.nan
        current = float(np.mean(self.recent_errors)) if self.recent_errors else math.nan
        better = start / current if current > 0 else math.inf
        logger.info(
            f"[{self.steps:6d} steps, {rate:5.1f} steps/s] "
            f"prediction error: untrained {start:.3g} -> now {current:.3g} "
            f"({better:.3g}x lower), model synced {self.model.sync_version} times"
        )
        self.recent_errors.clear()
        self.next_report = time.time() + self.report_interval
        self.steps_at_report = self.steps
        self.real_time_at_report = now

    @override
    def save_state(self, path: Path) -> None:
        super().save_state(path)
        save_pickle(
            {
                "steps": self.steps,
                "first_errors": self.first_errors,
                "torque": self.torque,
            },
            path.with_suffix(".pkl"),
        )

    @override
    def load_state(self, path: Path) -> None:
        super().load_state(path)
        state = load_pickle(path.with_suffix(".pkl"))
        self.steps = state["steps"]
        self.first_errors = state["first_errors"]
        self.torque = state["torque"]
