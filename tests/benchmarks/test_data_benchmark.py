"""The data benchmark runs (numbers are reported, never asserted)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "data.py"


def test_quick_run_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "machine:" in result.stdout
    assert "| collect() -> update() -> SequentialBuffer |" in result.stdout
    assert "| sample 256 (get_data + random.sample + stack) |" in result.stdout
    assert result.stdout.count("| --- |") == 2
