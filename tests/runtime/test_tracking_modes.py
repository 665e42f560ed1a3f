"""Scalars logged anywhere reach the system's loggers, in thread and process mode."""

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pamiq_core import time
from pamiq_core.tracking import CSVLogger

sys.path.insert(0, str(Path(__file__).parents[1]))
from process_system import Consumer, System


class LoggingConsumer(Consumer):
    """Logs the number of items it has seen after every run, and counts its hooks."""

    def on_system_start(self) -> None:
        self.log_scalar("started", 1.0)

    def train(self) -> None:
        super().train()
        self.log_scalar("seen", float(len(self.seen)))


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_trainer_scalars_reach_the_loggers_in_order(tmp_path: Path, mode: str) -> None:
    system = System()
    system.trainer = LoggingConsumer()
    path = tmp_path / "scalars.csv"
    system.launch(
        states_dir=tmp_path / "states",
        max_uptime=3.0,
        training=mode,
        loggers=[CSVLogger(path)],
    )
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    seen = [row for row in rows if row["name"] == "trainers/consumer/seen"]
    started = [row for row in rows if row["name"] == "trainers/consumer/started"]
    assert len(started) == 1  # the start hook ran once, wherever the trainer runs
    assert len(seen) > 3
    steps = [int(row["step"]) for row in seen]
    assert steps == list(range(len(seen)))  # global_step: the runs before this one
    values = [float(row["value"]) for row in seen]
    assert values == sorted(values)
