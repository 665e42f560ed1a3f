"""MLflowLogger against a real local MLflow store, queried through MlflowClient."""

import logging
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from pamiq_core.tracking import (
    MLflowLogger,
    RunInfo,
    ScalarRecord,
    Tracker,
    log_hparams,
    log_scalar,
)
from pamiq_core.tracking._mlflow_logger import mlflow_key


def client(store: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=store.resolve().as_uri())


def history(store: Path, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted(
        (m.step, m.value) for m in client(store).get_metric_history(run_id, key)
    )


def test_scalars_become_metrics_and_hparams_params_of_a_finished_run(
    tmp_path: Path,
) -> None:
    logger = MLflowLogger(
        tmp_path / "mlruns", experiment_name="cartpole", run_name="r1"
    )
    with Tracker([logger]) as tracker:
        log_hparams({"optimizer": {"lr": 0.001}, "double": True})
        for step in range(1500):  # more than one MLflow batch
            log_scalar("trainers/dqn/loss", 1.0 / (step + 1), step=step)
        tracker.flush()
    assert logger.run_id is not None
    run = client(tmp_path / "mlruns").get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "r1"
    assert run.data.params == {"optimizer/lr": "0.001", "double": "True"}
    loss = history(tmp_path / "mlruns", logger.run_id, "trainers/dqn/loss")
    assert [s for s, _ in loss] == list(range(1500))
    assert loss[9] == (9, pytest.approx(0.1))
    experiment = client(tmp_path / "mlruns").get_experiment(run.info.experiment_id)
    assert experiment.name == "cartpole"


def test_timestamps_are_the_wall_time_of_the_call_in_milliseconds(
    tmp_path: Path,
) -> None:
    logger = MLflowLogger(tmp_path)
    with Tracker([logger]):
        log_scalar("x", 1.0, step=0)
    assert logger.run_id is not None
    (metric,) = client(tmp_path).get_metric_history(logger.run_id, "x")
    run = client(tmp_path).get_run(logger.run_id)
    assert run.info.end_time is not None
    assert run.info.start_time - 5_000 <= metric.timestamp <= run.info.end_time


def test_a_resumed_logger_continues_the_same_run(tmp_path: Path) -> None:
    first = MLflowLogger(tmp_path)
    kept = first.open(RunInfo(started_at=0.0))
    first.write([ScalarRecord("x", float(s), s, 1.7e9) for s in range(3)])
    first.close()

    second = MLflowLogger(tmp_path)
    assert second.open(RunInfo(started_at=0.0, resume=kept)) == kept
    assert client(tmp_path).get_run(kept["run_id"]).info.status == "RUNNING"
    second.write([ScalarRecord("x", float(s), s, 1.7e9) for s in range(3, 5)])
    second.close()
    assert second.run_id == first.run_id
    assert history(tmp_path, kept["run_id"], "x") == [(s, float(s)) for s in range(5)]
    assert client(tmp_path).get_run(kept["run_id"]).info.status == "FINISHED"


def test_a_run_id_the_store_does_not_have_starts_a_new_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logger = MLflowLogger(tmp_path)
    with caplog.at_level(logging.WARNING):
        kept = logger.open(RunInfo(started_at=0.0, resume={"run_id": "f" * 32}))
    logger.close()
    assert kept["run_id"] != "f" * 32
    assert "starting a new run" in caplog.text


def test_a_resumed_run_keeps_its_params_and_refuses_changed_ones(
    tmp_path: Path,
) -> None:
    first = MLflowLogger(tmp_path)
    kept = first.open(RunInfo(started_at=0.0))
    first.log_hparams({"lr": 0.1, "seed": 1})
    first.close()
    second = MLflowLogger(tmp_path)
    second.open(RunInfo(started_at=0.0, resume=kept))
    second.log_hparams({"lr": 0.1, "seed": 1, "new": "yes"})  # same values: fine
    with pytest.raises(ValueError, match=r"lr: '0\.1' -> '0\.2'"):
        second.log_hparams({"lr": 0.2})
    second.close()
    params = client(tmp_path).get_run(kept["run_id"]).data.params
    assert params == {"lr": "0.1", "seed": "1", "new": "yes"}


def test_names_mlflow_would_refuse_are_made_acceptable(tmp_path: Path) -> None:
    assert mlflow_key("agent/q:value?") == "agent/q_value_"
    assert mlflow_key("a//b/./c/") == "a/b/_/c"
    logger = MLflowLogger(tmp_path)
    with Tracker([logger]) as tracker:
        log_scalar("agent/q:value?", 1.0, step=0)
        tracker.flush()
    assert tracker.stats()["logger_failures"] == {"MLflowLogger": 0}
    assert logger.run_id is not None
    assert history(tmp_path, logger.run_id, "agent/q_value_") == [(0, 1.0)]


def test_the_default_store_is_mlruns_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    logger = MLflowLogger()
    with Tracker([logger]):
        log_scalar("x", 1.0, step=0)
    assert logger.run_id is not None
    assert history(tmp_path / "mlruns", logger.run_id, "x") == [(0, 1.0)]
