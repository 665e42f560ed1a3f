"""benchmarks/sync.py keeps running (it is not a test of its numbers)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "sync.py"


@pytest.fixture(scope="module")
def quick_output() -> list[str]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_quick_benchmark_runs_and_prints_its_table(quick_output: list[str]) -> None:
    lines = quick_output
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


def test_quick_benchmark_prints_the_per_run_overhead_table(
    quick_output: list[str],
) -> None:
    lines = quick_output
    header = next(line for line in lines if "TorchTrainer setup + teardown" in line)
    assert "ours / 0.6" in header
    assert any(line.startswith("10k") and "Adam" in line for line in lines)
