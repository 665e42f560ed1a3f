import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "lockstep.py"


@pytest.mark.timeout(600)  # 20 pamiq seconds of the demo train a torch model
def test_quick_run_prints_the_rates_and_the_demo_hour() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for fragment in (
        "machine:",
        "| agent only |",
        "| agent + one empty trainer |",
        "lock-step mode 20,000: one per step",
        "demo in lock-step mode: 20 pamiq seconds (",
        "one hour of pamiq time:",
    ):
        assert fragment in result.stdout, result.stdout
