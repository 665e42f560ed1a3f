"""samples/cartpole_dqn: a one-minute run learns to play clearly better than random."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
RANDOM = re.compile(r"Random policy: mean return (\S+) over 100 episodes")
REPORT = re.compile(
    r"episodes\s+(\d+), steps\s+(\d+) \(\s*\d+/s\), mean return \(last \d+\)\s+(\S+), "
    r"epsilon (\S+), Q-network synced (\d+) times"
)
CURVE = re.compile(r"s: mean return\s+(\S+) \(\s*\S+x random\) over\s+(\d+) episodes")
FINAL = re.compile(r"Final: mean return of the last \d+ episodes (\S+), random policy")


@pytest.mark.timeout(240)
def test_a_one_minute_run_plays_far_better_than_random(tmp_path: Path) -> None:
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
            str(tmp_path),
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
    random_match = RANDOM.search(result.stdout)
    final_match = FINAL.search(result.stdout)
    assert random_match, output
    assert final_match, output
    baseline, final = float(random_match[1]), float(final_match[1])
    assert 15 < baseline < 30  # CartPole-v1's random policy: about 22

    reports = [
        (int(m[1]), int(m[2]), float(m[3]), float(m[4]), int(m[5]))
        for m in REPORT.finditer(result.stdout)
    ]
    assert len(reports) >= 5, output
    episodes, steps, _, epsilon, syncs = reports[-1]
    assert steps > 1000
    assert syncs > 100  # trained Q-networks kept reaching the agent
    assert epsilon < 1.0

    curve = [(float(m[1]), int(m[2])) for m in CURVE.finditer(result.stdout)]
    assert len(curve) >= 5, output  # ten parts, minus any in which no episode ended
    assert sum(count for _, count in curve) == episodes

    # Generous: it is usually 5-20x; a dip late in the run still leaves it well
    # above 2.5x.
    assert final > 2.5 * baseline, output
