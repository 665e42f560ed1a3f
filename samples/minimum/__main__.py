"""pamiq-core's smallest complete system, without torch.

A thermometer reads a hidden room temperature with noise, 100 times a second. The
agent predicts each next reading with its inference model (a plain Python object
holding one number, the estimate), and collects every reading it sees. In the
background a trainer moves the training model's estimate a step towards the mean of
the newest readings; after each of its runs the new estimate is synced into the
agent's model. The log shows the estimate converging to the hidden temperature and
the prediction error falling to the noise level.

    python -m samples.minimum                  # about 5 seconds
    python -m samples.minimum --help           # the options

Every part a system needs is here, in its simplest form: an environment, an agent,
a model pair, a buffer, a trainer, and ``launch`` to run them (for ``--seconds``).
Saving and resuming are left out (``launch`` still writes a final snapshot to
``--states-dir``); ``samples/demo`` shows them.
"""

import argparse
import random
from pathlib import Path

from typing_extensions import override

from pamiq_core import (
    Agent,
    DataCollector,
    Environment,
    FixedIntervalInteraction,
    InferenceModel,
    LaunchConfig,
    Trainer,
    TrainingModel,
    launch,
    time,
)
from pamiq_core.data import DataUser
from pamiq_core.data.impls import SequentialBuffer


class Thermometer(Environment[float, float]):
    """Noisy readings of a hidden temperature; the action is a prediction of the next."""

    def __init__(self, temperature: float, noise: float, seed: int) -> None:
        self.temperature = temperature
        self.noise = noise
        self.rng = random.Random(seed)

    @override
    def observe(self) -> float:
        return self.rng.gauss(self.temperature, self.noise)

    @override
    def affect(self, action: float) -> None:
        pass  # a thermometer ignores predictions; a robot's motors would not


class Estimate(InferenceModel):
    """The agent's half of the model: predicts a reading with the current estimate."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.syncs = 0

    @override
    def infer(self) -> float:
        return self.value


class EstimateLearner(TrainingModel[Estimate]):
    """The trainer's half: the estimate being learned."""

    def __init__(self, initial: float = 0.0) -> None:
        super().__init__()
        self.value = initial

    @override
    def _create_inference_model(self) -> Estimate:
        return Estimate(self.value)

    @override
    def forward(self) -> float:
        return self.value

    @override
    def sync_impl(self, inference_model: Estimate) -> None:
        inference_model.value = self.value  # one assignment: old or new, never a mix
        inference_model.syncs += 1


class Predictor(Agent[float, float]):
    """Predicts each next reading, collects the readings, and reports as it goes."""

    def __init__(self, report_interval: float) -> None:
        super().__init__()
        self.report_interval = report_interval
        self.steps = 0
        self.prediction: float | None = None
        self.errors: list[float] = []
        self.next_report = 0.0

    @override
    def on_inference_models_attached(self) -> None:
        model = self.get_inference_model("temperature")
        assert isinstance(model, Estimate)
        self.estimate = model

    @override
    def on_data_collectors_attached(self) -> None:
        self.readings: DataCollector[float] = self.get_data_collector("readings")

    @override
    def setup(self) -> None:
        super().setup()
        self.next_report = time.time() + self.report_interval

    @override
    def step(self, observation: float) -> float:
        if self.prediction is not None:
            self.errors.append(abs(observation - self.prediction))
        self.readings.collect(observation)
        prediction = self.estimate()
        self.prediction = prediction
        self.steps += 1
        if time.time() >= self.next_report:
            self.report()
            self.next_report += self.report_interval
        return prediction

    def report(self) -> None:
        error = sum(self.errors) / len(self.errors) if self.errors else float("nan")
        print(
            f"{self.steps:5d} steps: estimate {self.estimate.value:6.2f}, "
            f"mean prediction error {error:5.2f}, synced {self.estimate.syncs} times",
            flush=True,
        )
        self.errors.clear()


class EstimateTrainer(Trainer):
    """Each run moves the estimate a step towards the mean of the newest readings."""

    def __init__(self, learning_rate: float = 0.2) -> None:
        # Train once 10 readings are stored, whenever 10 new ones have arrived.
        super().__init__("readings", min_buffer_size=10, min_new_data_count=10)
        self.learning_rate = learning_rate
        self.training_runs = 0

    @override
    def on_training_models_attached(self) -> None:
        model = self.get_training_model("temperature")
        assert isinstance(model, EstimateLearner)
        self.learner = model

    @override
    def on_data_users_attached(self) -> None:
        self.readings: DataUser[list[float]] = self.get_data_user("readings")

    @override
    def train(self) -> None:
        readings = self.readings.get_data()
        mean = sum(readings) / len(readings)
        self.learner.value += self.learning_rate * (mean - self.learner.value)
        self.training_runs += 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to run")
    parser.add_argument("--rate", type=float, default=100.0, help="steps per second")
    parser.add_argument("--temperature", type=float, default=21.5, help="to learn")
    parser.add_argument("--noise", type=float, default=0.5, help="reading noise")
    parser.add_argument("--report-interval", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--states-dir", type=Path, default=Path("states/minimum"))
    args = parser.parse_args(argv)
    args.states_dir.mkdir(parents=True, exist_ok=True)  # launch makes only the last

    agent = Predictor(args.report_interval)
    environment = Thermometer(args.temperature, args.noise, args.seed)
    trainer = EstimateTrainer()
    print(f"Learning a hidden temperature of {args.temperature} for {args.seconds} s")
    launch(
        FixedIntervalInteraction.with_sleep_adjustor(
            agent, environment, interval=1.0 / args.rate
        ),
        models={"temperature": EstimateLearner()},
        buffers={"readings": SequentialBuffer[float](max_size=100)},
        trainers={"estimator": trainer},
        config=LaunchConfig(
            states_dir=args.states_dir,
            max_uptime=args.seconds,
            web_api_address=None,
        ),
    )
    agent.report()
    print(
        f"Done: {agent.steps} steps, {trainer.training_runs} training runs, "
        f"estimate {agent.estimate.value:.2f} (hidden {args.temperature})"
    )


if __name__ == "__main__":
    main()
