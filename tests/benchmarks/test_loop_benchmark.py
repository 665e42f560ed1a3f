import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "loop.py"


def test_quick_run_prints_the_tables() -> None:
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
        "framework overhead per step:",
        "| inference thread (ours) |",
        "| loop sleeping 1 us per tick (0.6) |",
        "| training runs/s |",
        "| pause (ms) |",
    ):
        assert fragment in result.stdout
