import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "realtime.py"


@pytest.mark.timeout(300)
def test_quick_run_prints_the_table_of_cases() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stderr
    for fragment in (
        "machine:",
        "| case | steps kept | lateness p50 ms | p99 ms | max ms |",
        "| all measures (launch defaults) |",
        "| without both (launch before them) |",
        "| interpreter defaults |",
        "torch trainer runs/s, launch defaults / without both",
        "batch trainer runs/s, launch defaults / without both",
    ):
        assert fragment in result.stdout, result.stdout


@pytest.mark.timeout(120)
def test_memory_run_prints_memory_over_time() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--memory", "--seconds", "2", "--keep", "1000"],
        check=False,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    assert "| s | RSS MiB | gc.get_count() | frozen |" in result.stdout, result.stdout
    assert "whole run:" in result.stdout, result.stdout
