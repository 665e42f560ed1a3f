import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "metrics.py"


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
        "| StepPeriods.tick | inference step |",
        "| RunStats.record | training run |",
        "| SyncStats.record_sync | sync |",
        "| Metrics.snapshot() (in process) |",
        "| GET /api/metrics (",
        "| GET /api/status |",
        "| agent.log_scalar(name, x) |",
        "| log_scalar(name, x, step) |",
        "| history only (no logger) |",
        "| CSVLogger |",
        "| TensorBoardLogger |",
        "| MLflowLogger (file store) |",
    ):
        assert fragment in result.stdout
