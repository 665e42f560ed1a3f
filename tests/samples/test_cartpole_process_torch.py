"""samples/cartpole_dqn --training process: a short run trains in a process of its own."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SYNCED = re.compile(r"Q-network synced (\d+) times")
TRAINER = re.compile(r"Trainer: (\d+) training runs, (\d+) gradient steps")


@pytest.mark.timeout(240)
def test_a_short_run_in_process_mode_syncs_and_reports_its_trainer(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.cartpole_dqn",
            "--training",
            "process",
            "--seconds",
            "20",
            "--report-interval",
            "5",
            "--no-web",
            "--states-dir",
            str(tmp_path / "states"),
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
    syncs = [int(m[1]) for m in SYNCED.finditer(result.stdout)]
    assert syncs, output
    assert syncs[-1] > 0, output  # the agent got trained parameters
    trainer = TRAINER.search(result.stdout)
    assert trainer is not None, output
    # counted in the training process, brought back from the final snapshot
    assert int(trainer[1]) > 0, output
    assert int(trainer[2]) > 0, output
