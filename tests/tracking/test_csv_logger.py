import csv
import json
import math
from pathlib import Path

import pytest

from pamiq_core.tracking import (
    CSVLogger,
    RunInfo,
    ScalarRecord,
    Tracker,
    log_hparams,
    log_scalar,
)


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_each_value_is_a_row_under_a_header(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "scalars.csv"  # the folder is created
    with Tracker([CSVLogger(path)]) as tracker:
        log_scalar("trainers/dqn/loss", 0.1, step=3)
        log_scalar("agent/reward", -1.5, step=40)
        tracker.flush()
        assert len(rows(path)) == 3  # flushed: readable while the system runs
    header, *body = rows(path)
    assert header == ["wall_time", "step", "name", "value"]
    assert [row[1:] for row in body] == [
        ["3", "trainers/dqn/loss", "0.1"],
        ["40", "agent/reward", "-1.5"],
    ]
    assert all(float(row[0]) > 1.6e9 for row in body)


def test_values_read_back_exactly_including_nan_and_infinity(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    values = [1 / 3, 1e-300, math.inf, -math.inf]
    with Tracker([CSVLogger(path)]):
        for step, value in enumerate([*values, math.nan]):
            log_scalar("x", value, step=step)
    read = [float(row[3]) for row in rows(path)[1:]]
    assert read[:4] == values
    assert math.isnan(read[4])


def test_a_second_run_appends_without_a_second_header(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    for step in range(2):
        with Tracker([CSVLogger(path)]):
            log_scalar("x", float(step), step=step)
    assert [row[1:] for row in rows(path)] == [
        ["step", "name", "value"],
        ["0", "x", "0.0"],
        ["1", "x", "1.0"],
    ]


def test_hyperparameters_go_to_a_json_file_beside_it_merged(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    with Tracker([CSVLogger(path)]):
        log_hparams({"optimizer": {"lr": 0.1}})
        log_hparams({"seed": 1})
    with Tracker([CSVLogger(path)]):  # a resumed run adds to them
        log_hparams({"optimizer": {"lr": 0.05}})
    saved = json.loads((tmp_path / "s.hparams.json").read_text("utf-8"))
    assert saved == {"optimizer/lr": 0.05, "seed": 1}


def test_a_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"exists with the columns \['a', 'b'\]"):
        CSVLogger(path).open(RunInfo(started_at=0.0))


def test_writing_before_open_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is not open"):
        CSVLogger(tmp_path / "s.csv").write([ScalarRecord("x", 1.0, 0, 0.0)])
