"""TensorBoardLogger, read back with TensorBoard's own event reader."""

from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from pamiq_core.tracking import (
    RunInfo,
    ScalarRecord,
    TensorBoardLogger,
    Tracker,
    log_hparams,
    log_scalar,
    log_scalars,
)


def read(log_dir: Path) -> event_accumulator.EventAccumulator:
    accumulator = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={event_accumulator.SCALARS: 0}
    )
    accumulator.Reload()
    return accumulator


def points(
    accumulator: event_accumulator.EventAccumulator, tag: str
) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in accumulator.Scalars(tag)]


def test_tensorboard_reads_every_scalar_with_its_step_value_and_time(
    tmp_path: Path,
) -> None:
    with Tracker([TensorBoardLogger(tmp_path / "tb")]) as tracker:
        for step in range(100):
            log_scalar("trainers/dqn/loss", 1.0 / (step + 1), step=step)
        log_scalars({"agent/reward": 2.0, "agent/epsilon": 0.25}, step=7)
        tracker.flush()
        # Flushed: TensorBoard sees the points while the system still runs.
        assert len(read(tmp_path / "tb").Scalars("trainers/dqn/loss")) == 100
    accumulator = read(tmp_path / "tb")
    assert set(accumulator.Tags()["scalars"]) == {
        "trainers/dqn/loss",
        "agent/reward",
        "agent/epsilon",
    }
    loss = points(accumulator, "trainers/dqn/loss")
    assert [s for s, _ in loss] == list(range(100))
    assert [v for _, v in loss] == pytest.approx([1.0 / (s + 1) for s in range(100)])
    assert points(accumulator, "agent/reward") == [(7, 2.0)]
    assert points(accumulator, "agent/epsilon") == [(7, 0.25)]
    assert all(e.wall_time > 1.6e9 for e in accumulator.Scalars("agent/reward"))


def hparams_session(log_dir: Path) -> Any:
    """The run's SessionStartInfo, parsed with TensorBoard's own protobuf classes."""
    content = read(log_dir).PluginTagToContent("hparams")
    plugin_data = plugin_data_pb2.HParamsPluginData  # pyright: ignore[reportAttributeAccessIssue]
    return plugin_data.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info


def test_hyperparameters_logged_at_start_appear_in_the_hparams_plugin(
    tmp_path: Path,
) -> None:
    with Tracker([TensorBoardLogger(tmp_path)], interval=3600) as tracker:
        log_hparams({"optimizer": {"lr": 0.001}, "name": "dqn"})
        log_hparams({"double": True})  # e.g. another component's, at start
        tracker.flush()
    start = hparams_session(tmp_path)
    assert start.hparams["optimizer/lr"].number_value == 0.001
    assert start.hparams["name"].string_value == "dqn"
    assert start.hparams["double"].bool_value is True


def test_hyperparameters_after_the_session_are_refused_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Tracker([TensorBoardLogger(tmp_path)]) as tracker:
        log_hparams({"lr": 0.1})
        tracker.flush()
        log_hparams({"late": 1})
        tracker.flush()
        log_hparams({"later": 2})
    assert set(hparams_session(tmp_path).hparams) == {"lr"}
    warnings = [r for r in caplog.records if "only the first session" in r.message]
    assert len(warnings) == 1
    assert "['late']" in warnings[0].message


def test_two_starts_in_one_folder_keep_both_files_and_continue_the_curve(
    tmp_path: Path,
) -> None:
    for run in range(2):  # quick succession: both within one second
        with Tracker([TensorBoardLogger(tmp_path)]):
            for step in range(run * 5, run * 5 + 5):
                log_scalar("x", float(step), step=step)
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
    assert points(read(tmp_path), "x") == [(s, float(s)) for s in range(10)]


def test_writing_before_open_says_so(tmp_path: Path) -> None:
    logger = TensorBoardLogger(tmp_path)
    with pytest.raises(RuntimeError, match="is not open"):
        logger.write([ScalarRecord("x", 1.0, 0, 0.0)])
    logger.open(RunInfo(started_at=0.0))
    logger.close()
    logger.close()  # closing twice is harmless
