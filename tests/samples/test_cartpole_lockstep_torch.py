"""samples/cartpole_dqn --training lockstep: the same seed gives the same learning curve."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CURVE = re.compile(r"^ .*s: (mean return .*|no episode ended)$", re.MULTILINE)
TRAINER = re.compile(
    r"^Trainer: (\d+) training runs, (\d+) gradient steps.*$", re.MULTILINE
)
FINAL = re.compile(r"^Final: .*$", re.MULTILINE)


def run_sample(states: Path, seed: int) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.cartpole_dqn",
            "--training",
            "lockstep",
            "--seed",
            str(seed),
            "--seconds",
            "3",
            "--no-web",
            "--states-dir",
            str(states),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    return result.stdout


def learning(stdout: str) -> tuple[list[str], str, str]:
    trainer = TRAINER.search(stdout)
    final = FINAL.search(stdout)
    assert trainer, stdout
    assert final, stdout
    assert int(trainer[2]) > 100, stdout  # it trained in the last 1.5 s
    curve = CURVE.findall(stdout)
    assert len(curve) == 10, stdout
    return curve, trainer[0], final[0]


@pytest.mark.timeout(600)
def test_two_lockstep_runs_with_one_seed_learn_the_same_curve(tmp_path: Path) -> None:
    first = learning(run_sample(tmp_path / "first", seed=3))
    second = learning(run_sample(tmp_path / "second", seed=3))
    assert first == second
