"""A system that is saved, stopped and resumed continues its curves in every logger."""

import csv
from pathlib import Path

from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing import event_accumulator

from pamiq_core.interaction import Interaction
from pamiq_core.state_persistence import StateStore
from pamiq_core.tracking import (
    CSVLogger,
    MLflowLogger,
    SystemTracking,
    TensorBoardLogger,
)
from pamiq_core.trainer import TrainersDict

from .components import CountingAgent, CountingEnvironment, LossTrainer


def run_system(
    out: Path, inference_steps: int, training_runs: int, resume_from: Path | None
) -> tuple[Path, str]:
    """Build, (resume,) start, step, train, save, stop; return the snapshot, run id."""
    agent = CountingAgent(agents={"explorer": CountingAgent("explorer")})
    environment = CountingEnvironment()
    interaction = Interaction(agent, environment)
    trainers = TrainersDict(dqn=LossTrainer())
    mlflow = MLflowLogger(out / "mlruns")
    done = 0
    system = SystemTracking(
        trainers=trainers,
        agent=agent,
        environment=environment,
        loggers=[CSVLogger(out / "scalars.csv"), TensorBoardLogger(out / "tb"), mlflow],
        inference_steps=lambda: done,
    )
    store = StateStore(out / "states")
    store.register("trainers", trainers)
    store.register("tracking", system)
    if resume_from is not None:
        store.load_state(resume_from)
    system.start()
    for _ in range(inference_steps):
        interaction.step()
        done += 1
    for _ in range(training_runs):
        trainers["dqn"].run()
    snapshot = store.save_state()
    system.stop()
    assert mlflow.run_id is not None
    return snapshot, mlflow.run_id


def test_a_resumed_system_continues_every_curve_without_duplicates(
    tmp_path: Path,
) -> None:
    snapshot, run_id = run_system(tmp_path, 5, 3, None)
    _, resumed_run_id = run_system(tmp_path, 4, 2, snapshot)
    assert resumed_run_id == run_id  # MLflow: the same run

    expected = {
        "trainers/dqn/loss": list(range(5)),
        "agent/observation": list(range(9)),
        "agent/explorer/observation": list(range(9)),
        "environment/action": list(range(9)),
    }

    with (tmp_path / "scalars.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    for name, steps in expected.items():
        assert [int(r["step"]) for r in rows if r["name"] == name] == steps, name

    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path / "tb"), size_guidance={event_accumulator.SCALARS: 0}
    )
    accumulator.Reload()
    for name, steps in expected.items():
        assert [e.step for e in accumulator.Scalars(name)] == steps, name

    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    for name, steps in expected.items():
        history = client.get_metric_history(run_id, name)
        assert sorted(m.step for m in history) == steps, name
    assert client.get_run(run_id).info.status == "FINISHED"

    # The trainer's loss curve is its global step's: 1/(step+1) across the resume.
    losses = [float(r["value"]) for r in rows if r["name"] == "trainers/dqn/loss"]
    assert losses == [1.0 / (s + 1) for s in range(5)]
