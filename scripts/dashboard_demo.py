"""A small system to watch on the dashboard, and the screenshot in docs/.

The agent runs at 100 steps/s: it predicts the next value of a noisy sine wave with
a linear model and collects what it saw. A "predictor" trainer fits that model on
the newest data every 20 steps; a slower "critic" trainer takes a longer run every
200 steps. Both models sync into the agent after each run.

Usage:
    python scripts/dashboard_demo.py                     # open http://localhost:8391/
    python scripts/dashboard_demo.py --screenshot docs/dashboard.png

With ``--screenshot`` it opens the dashboard in headless Chromium (Debian's
``/usr/bin/chromium``, driven by Playwright), lets the charts fill for ``--warmup``
seconds, saves a snapshot through the dashboard's Save button, takes the picture,
and shuts the system down.
"""

import argparse
import math
import random
import tempfile
import threading
import time as std_time
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import sync_playwright

from pamiq_core import (
    Agent,
    Environment,
    FixedIntervalInteraction,
    InferenceModel,
    LaunchConfig,
    Trainer,
    TrainingModel,
    launch,
)
from pamiq_core.console import SystemStatus, WebApiClient
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import RingBuffer

WINDOW = 8
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class NoisySine(Environment[np.ndarray, float]):
    """Observes the last ``WINDOW`` samples of a noisy sine wave."""

    def __init__(self) -> None:
        self.t = 0
        self.samples = [0.0] * (WINDOW + 1)

    def observe(self) -> np.ndarray:
        self.t += 1
        value = math.sin(self.t * 0.05) + random.gauss(0.0, 0.05)
        self.samples = [*self.samples[1:], value]
        return np.array(self.samples, dtype=np.float32)

    def affect(self, action: float) -> None:
        pass


class Linear(InferenceModel):
    def __init__(self) -> None:
        self.weights = np.zeros(WINDOW, dtype=np.float32)

    def infer(self, window: np.ndarray) -> float:
        return float(window @ self.weights)


class LinearModel(TrainingModel[Linear]):
    def __init__(self) -> None:
        super().__init__()
        self.weights = np.zeros(WINDOW, dtype=np.float32)

    def _create_inference_model(self) -> Linear:
        return Linear()

    def forward(self, windows: np.ndarray) -> np.ndarray:
        return windows @ self.weights

    def sync_impl(self, inference_model: Linear) -> None:
        inference_model.weights = self.weights.copy()


class Predictor(Agent[np.ndarray, float]):
    def on_inference_models_attached(self) -> None:
        self.predictor = self.get_inference_model("predictor")
        self.critic = self.get_inference_model("critic")

    def on_data_collectors_attached(self) -> None:
        self.collector: DataCollector[np.ndarray] = self.get_data_collector(
            "transitions"
        )

    def step(self, observation: np.ndarray) -> float:
        self.collector.collect(observation)
        return self.predictor(observation[1:]) + 0.0 * self.critic(observation[1:])


class Fit(Trainer):
    """A few gradient steps of least squares on a batch of the newest data."""

    def __init__(
        self, model: str, buffer: RingBuffer[Any], every: int, steps: int, batch: int
    ) -> None:
        super().__init__("transitions", min_buffer_size=batch, min_new_data_count=every)
        self.model_name = model
        self.buffer = buffer
        self.steps = steps
        self.batch = batch

    def on_training_models_attached(self) -> None:
        self.model: LinearModel = self.get_training_model(self.model_name)  # type: ignore[assignment]

    def train(self) -> None:
        data = np.asarray(self.buffer.sample(self.batch))
        inputs, targets = data[:, :-1], data[:, -1]
        for _ in range(self.steps):
            error = inputs @ self.model.weights - targets
            self.model.weights -= 0.1 * (inputs.T @ error) / len(targets)


def start(port: int, states_dir: Path) -> threading.Thread:
    interaction = FixedIntervalInteraction.with_sleep_adjustor(
        Predictor(), NoisySine(), 0.01
    )
    transitions = RingBuffer(5000, shape=(WINDOW + 1,))
    runner = threading.Thread(
        target=launch,
        args=(
            interaction,
            {"predictor": LinearModel(), "critic": LinearModel()},
            {"transitions": transitions},
            {
                "predictor": Fit("predictor", transitions, 20, steps=200, batch=256),
                "critic": Fit("critic", transitions, 200, steps=3000, batch=1024),
            },
            LaunchConfig(states_dir=states_dir, web_api_address=("localhost", port)),
        ),
    )
    runner.start()
    return runner


def screenshot(port: int, path: Path, warmup: float) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://localhost:{port}/")
        std_time.sleep(warmup * 0.8)
        page.click("#save")
        std_time.sleep(warmup * 0.2)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a demo system for the dashboard.")
    parser.add_argument("--port", type=int, default=8391)
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--warmup", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as states:
        runner = start(args.port, Path(states))
        client = WebApiClient("localhost", args.port)
        try:
            deadline = std_time.monotonic() + 30
            while client.get_status() is SystemStatus.OFFLINE:
                if std_time.monotonic() > deadline or not runner.is_alive():
                    raise SystemExit("the system did not start")
                std_time.sleep(0.05)
            if args.screenshot is None:
                print(f"Dashboard: http://localhost:{args.port}/ (Ctrl-C stops)")
                runner.join()
            else:
                screenshot(args.port, args.screenshot, args.warmup)
        finally:
            client.shutdown()
            client.close()
            runner.join()


if __name__ == "__main__":
    main()
