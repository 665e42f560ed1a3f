import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "realtime.py"


def test_quick_run_prints_the_lateness_table() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for fragment in (
        "machine:",
        "| ours (launch defaults) |",
        "| interpreter defaults |",
        "| no training (reference) |",
        "p99 lateness, interpreter defaults / ours:",
    ):
        assert fragment in result.stdout
