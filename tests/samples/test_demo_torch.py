"""The README's demo: it learns, saves, and resumes (a short run of each)."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from pamiq_core.state_persistence import find_latest_state

ROOT = Path(__file__).parents[2]
REPORT = re.compile(
    r"\[\s*(\d+) steps,\s*([\d.]+) steps/s\] prediction error: untrained (\S+) -> "
    r"now (\S+) \((\S+)x lower\), model synced (\d+) times"
)


def run_demo(*args: str) -> list[tuple[int, float, float, float, int]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.demo",
            "--no-web",
            "--report-interval",
            "1",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    reports = [
        (int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[6]))
        for m in REPORT.finditer(result.stdout)
    ]
    assert reports, result.stdout
    assert "State saved in" in result.stdout
    return reports


def test_the_prediction_error_falls_as_syncs_arrive(tmp_path: Path) -> None:
    reports = run_demo("--seconds", "10", "--states-dir", str(tmp_path))
    steps, _, untrained, final_error, syncs = reports[-1]
    assert steps > 100
    assert syncs > 5  # trained parameters kept reaching the agent
    assert final_error < untrained / 5  # generous: it is usually 100x lower
    assert find_latest_state(tmp_path) is not None


def test_resume_continues_where_it_stopped(tmp_path: Path) -> None:
    states, scalars = str(tmp_path / "states"), str(tmp_path / "scalars.csv")
    first = run_demo("--seconds", "4", "--states-dir", states, "--csv", scalars)
    logged_first = csv_series(tmp_path / "scalars.csv")["agent/prediction_error"]
    resumed = run_demo(
        "--seconds", "3", "--states-dir", states, "--resume", "latest", "--csv", scalars
    )
    assert resumed[0][0] > first[-1][0]  # the step count goes on
    assert resumed[0][2] == first[-1][2]  # same untrained baseline, restored
    # The logged curve goes on in the same file: no step twice, none back to 0.
    logged = csv_series(tmp_path / "scalars.csv")["agent/prediction_error"]
    steps = [step for step, _ in logged]
    assert len(logged) > len(logged_first)
    assert steps == sorted(set(steps))


def csv_series(path: Path) -> dict[str, list[tuple[int, float]]]:
    """``name -> [(step, value), ...]`` of a CSVLogger's file, in file order."""
    series: dict[str, list[tuple[int, float]]] = {}
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            series.setdefault(row["name"], []).append(
                (int(row["step"]), float(row["value"]))
            )
    return series


def test_logs_its_prediction_error_and_loss_to_csv_and_tensorboard(
    tmp_path: Path,
) -> None:
    run_demo(
        "--seconds",
        "8",
        "--states-dir",
        str(tmp_path / "states"),
        "--csv",
        str(tmp_path / "scalars.csv"),
        "--tensorboard",
        str(tmp_path / "runs"),
    )
    logged = csv_series(tmp_path / "scalars.csv")
    assert set(logged) == {"agent/prediction_error", "trainers/dynamics/loss"}
    errors, losses = logged["agent/prediction_error"], logged["trainers/dynamics/loss"]
    assert len(errors) > 100  # one per step after the first
    assert [step for step, _ in errors] == sorted({step for step, _ in errors})
    assert [step for step, _ in losses] == list(range(len(losses)))  # global_step
    assert all(value > 0 for _, value in errors + losses)

    events = EventAccumulator(str(tmp_path / "runs"), size_guidance={"scalars": 0})
    events.Reload()
    for name, points in logged.items():
        read = [(e.step, e.value) for e in events.Scalars(name)]
        assert [step for step, _ in read] == [step for step, _ in points], name
        assert [value for _, value in read] == pytest.approx(
            [value for _, value in points], rel=1e-6
        )  # float32 in the event file
    hparams = json.loads((tmp_path / "scalars.hparams.json").read_text())
    assert hparams["trainers/dynamics/batch_size"] == 128


def test_with_the_trainer_in_a_process_it_learns_and_ends_with_its_state(
    tmp_path: Path,
) -> None:
    reports = run_demo(
        "--seconds", "15", "--states-dir", str(tmp_path), "--training", "process"
    )
    _, _, untrained, final_error, syncs = reports[-1]
    assert syncs > 3  # parameters reached the agent from the training process
    assert final_error < untrained / 5
    final = find_latest_state(tmp_path)
    assert final is not None
    runs = int((final / "trainers" / "dynamics" / "global_step").read_text())
    assert runs > 0
