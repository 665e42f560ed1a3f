import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "faults.py"


def test_quick_run_keeps_every_snapshot_whole_and_the_system_alive() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| torn snapshots (1 x 1 s, 4 clients) | 0 of " in out
    assert "system alive |" in out
    assert "after 15 s of downtime 0 |" not in out
    assert "; ShutdownTimeoutError |" in out
