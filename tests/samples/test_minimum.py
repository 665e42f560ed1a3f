"""samples/minimum: the smallest system runs, trains and converges (a short run)."""

import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
REPORT = re.compile(
    r"(\d+) steps: estimate\s+(\S+), mean prediction error\s+(\S+), "
    r"synced (\d+) times"
)
DONE = re.compile(
    r"Done: (\d+) steps, (\d+) training runs, estimate (\S+) \(hidden (\S+)\)"
)


def test_the_estimate_converges_to_the_hidden_value(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.minimum",
            "--seconds",
            "2",
            "--states-dir",
            str(tmp_path / "states"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    reports = [
        (int(m[1]), float(m[2]), float(m[3]), int(m[4]))
        for m in REPORT.finditer(result.stdout)
    ]
    done = DONE.search(result.stdout)
    assert reports, output
    assert done, output
    steps, training_runs = int(done[1]), int(done[2])
    estimate, hidden = float(done[3]), float(done[4])
    assert steps > 20
    assert training_runs >= 2
    assert reports[-1][3] >= 2  # trained estimates reached the agent
    # It starts at 0; generous bounds, as a loaded machine may take fewer steps.
    assert abs(estimate - hidden) < hidden / 2
    errors = [error for _, _, error, _ in reports if not math.isnan(error)]
    assert errors[-1] < errors[0]  # the prediction error fell
    assert any((tmp_path / "states").iterdir())  # launch saved its final snapshot


def test_help_describes_the_sample() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "samples.minimum", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--seconds" in result.stdout
