"""The README's demo: it learns, saves, and resumes (a short run of each)."""

import re
import subprocess
import sys
from pathlib import Path

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
    first = run_demo("--seconds", "4", "--states-dir", str(tmp_path))
    resumed = run_demo(
        "--seconds", "3", "--states-dir", str(tmp_path), "--resume", "latest"
    )
    assert resumed[0][0] > first[-1][0]  # the step count goes on
    assert resumed[0][2] == first[-1][2]  # same untrained baseline, restored
