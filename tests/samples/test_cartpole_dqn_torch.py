"""samples/cartpole_dqn: a one-minute run learns to play clearly better than random,
and logs its episode returns and losses to CSV and TensorBoard."""

import csv
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).parents[2]
RANDOM = re.compile(r"Random policy: mean return (\S+) over 100 episodes")
REPORT = re.compile(
    r"episodes\s+(\d+), steps\s+(\d+) \(\s*\d+/s\), mean return \(last \d+\)\s+(\S+), "
    r"epsilon (\S+), Q-network synced (\d+) times"
)
CURVE = re.compile(r"s: mean return\s+(\S+) \(\s*\S+x random\) over\s+(\d+) episodes")
FINAL = re.compile(r"Final: mean return of the last \d+ episodes (\S+), random policy")
TRAINER = re.compile(r"Trainer: (\d+) training runs")


@dataclass
class Run:
    """One run of the sample, shared by the tests of this module."""

    stdout: str
    output: str
    folder: Path


@pytest.fixture(scope="module")
def one_minute_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("cartpole")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.cartpole_dqn",
            "--seconds",
            "60",
            "--seed",
            "0",
            "--report-interval",
            "5",
            "--no-web",
            "--states-dir",
            str(folder / "states"),
            "--csv",
            str(folder / "scalars.csv"),
            "--tensorboard",
            str(folder / "runs"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    return Run(result.stdout, output, folder)


@pytest.mark.timeout(240)
def test_a_one_minute_run_plays_far_better_than_random(one_minute_run: Run) -> None:
    stdout, output = one_minute_run.stdout, one_minute_run.output
    random_match = RANDOM.search(stdout)
    final_match = FINAL.search(stdout)
    assert random_match, output
    assert final_match, output
    baseline, final = float(random_match[1]), float(final_match[1])
    assert 15 < baseline < 30  # CartPole-v1's random policy: about 22

    reports = [
        (int(m[1]), int(m[2]), float(m[3]), float(m[4]), int(m[5]))
        for m in REPORT.finditer(stdout)
    ]
    assert len(reports) >= 5, output
    episodes, steps, _, epsilon, syncs = reports[-1]
    assert steps > 1000
    assert syncs > 100  # trained Q-networks kept reaching the agent
    assert epsilon < 1.0

    curve = [(float(m[1]), int(m[2])) for m in CURVE.finditer(stdout)]
    assert len(curve) >= 5, output  # ten parts, minus any in which no episode ended
    assert sum(count for _, count in curve) == episodes

    # Generous: it is usually 5-20x; a dip late in the run still leaves it well
    # above 2.5x.
    assert final > 2.5 * baseline, output


@pytest.mark.timeout(240)
def test_it_logs_episode_returns_and_the_loss_to_csv_and_tensorboard(
    one_minute_run: Run,
) -> None:
    stdout, folder = one_minute_run.stdout, one_minute_run.folder
    series: dict[str, list[tuple[int, float]]] = {}
    with (folder / "scalars.csv").open(newline="") as file:
        for row in csv.DictReader(file):
            point = (int(row["step"]), float(row["value"]))
            series.setdefault(row["name"], []).append(point)
    assert set(series) == {
        "agent/episode_return",
        "agent/epsilon",
        "trainers/dqn/loss",
    }
    returns, losses = series["agent/episode_return"], series["trainers/dqn/loss"]

    # Every episode that ended is logged, at the inference step it ended on.
    curve = [int(m[2]) for m in CURVE.finditer(stdout)]
    assert len(returns) == sum(curve)
    steps = [step for step, _ in returns]
    assert steps == sorted(set(steps))
    final = FINAL.search(stdout)
    assert final
    last = [value for _, value in returns[-20:]]
    # as the sample prints it (316.25 prints as 316.2: a difference of 0.05 and more)
    assert f"{sum(last) / len(last):.1f}" == final[1]
    # One loss per training run, at the trainer's global_step.
    runs = TRAINER.search(stdout)
    assert runs
    assert [step for step, _ in losses] == list(range(int(runs[1])))

    events = EventAccumulator(str(folder / "runs"), size_guidance={"scalars": 0})
    events.Reload()
    for name, points in series.items():
        read = [(e.step, e.value) for e in events.Scalars(name)]
        assert [step for step, _ in read] == [step for step, _ in points], name
        assert [value for _, value in read] == pytest.approx(
            [value for _, value in points], rel=1e-6, abs=1e-30
        )  # float32 in the event file
