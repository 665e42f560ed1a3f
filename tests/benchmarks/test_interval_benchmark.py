import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "interval.py"


def test_quick_run_prints_the_table() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "machine:" in result.stdout
    for column in ("condition", "rate", "pacer", "p50", "p99", "max"):
        assert column in result.stdout
    for rate in ("10Hz", "100Hz", "1000Hz"):
        assert rate in result.stdout
    assert "ratio" in result.stdout
