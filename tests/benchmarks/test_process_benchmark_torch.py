import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "process.py"


def test_quick_run_prints_the_tables() -> None:
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
        "| 10,000 | ",
        "| thread | ",
        "| process | ",
        "process / thread: small items",
        "two groups / one thread:",
    ):
        assert fragment in result.stdout, result.stdout
