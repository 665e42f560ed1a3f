"""The Ray transport benchmark runs (numbers are reported, never asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "ray_transport.py"


@pytest.mark.timeout(400)  # a two-node cluster, then seven short launches
def test_quick_run_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=380,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "machine:" in out
    assert out.count("| --- |") == 3
    for row in ("| 10,000 | process |", "| 10,000 | ray |", "| ray |", "| thread |"):
        assert row in out, row
