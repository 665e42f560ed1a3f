"""benchmarks/sync.py keeps running (it is not a test of its numbers)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "sync.py"


def test_quick_benchmark_runs_and_prints_its_table() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    for column in (
        "stall max",
        "sync / foreach",
        "sync / load_state_dict",
        "extra memory",
    ):
        assert column in header
    assert any(line.startswith("10k") and "double" in line for line in lines)
    assert any(line.startswith("10k") and "in_place" in line for line in lines)
