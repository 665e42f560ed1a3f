"""The collect-check benchmark runs (numbers are reported, never asserted)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "collect_check.py"


def test_quick_run_prints_its_table() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "logical CPUs" in result.stdout
    for case in ("unchecked", "no keys", "4 keys"):
        assert f"| {case} |" in result.stdout
