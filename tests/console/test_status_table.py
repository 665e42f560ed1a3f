from typing import Any

import pytest

from pamiq_core.console._status_table import (
    format_clock,
    format_metrics,
    format_seconds,
)

from .conftest import sample_metrics

SNAPSHOT: dict[str, Any] = {
    "time": 1_000_100.0,
    "system": {
        "status": 3,
        "status_name": "paused",
        "uptime": 3723.4,
        "uptime_real": 3800.0,
        "time_scale": 2.0,
        "last_save": {"path": "/states/2026.state", "time": 1_000_088.0},
        "save_failures": 2,
        "last_save_failure": {
            "message": "[Errno 28] No space left on device",
            "path": "/states/2027.state",
            "time": 1_000_095.0,
        },
    },
    "inference": {
        "steps": 1234567,
        "steps_per_second": 99.84,
        "period_p50": 0.01002,
        "period_p99": 0.0104,
        "period_max": 0.0213,
        "period_mean": 0.01003,
    },
    "trainers": {
        "policy": {
            "runs": 1520,
            "last_duration": 0.0421,
            "mean_duration": 0.0398,
            "last_finished_at": 123.0,
            "since_last_run": 0.5,
        },
        "idle": {
            "runs": 0,
            "last_duration": None,
            "mean_duration": None,
            "last_finished_at": None,
            "since_last_run": None,
        },
    },
    "models": {
        "policy": {
            "syncs": 1521,
            "last_sync_duration": 0.000042,
            "training_version": 1522,
            "inference_version": 1520,
            "versions_behind": 2,
            "syncs_inference_model": True,
        },
        "critic": {
            "syncs": 0,
            "last_sync_duration": None,
            "training_version": 15,
            "inference_version": None,
            "versions_behind": None,
            "syncs_inference_model": False,
        },
    },
    "buffers": {"episodes": {"size": 800, "capacity": 1000}},
    "scalars": {
        "cursor": "ab:12",
        "since": None,
        "groups": {
            "trainers/policy": {
                "loss": {
                    "latest": {"step": 1519, "value": 0.0123456789, "time": 1_000_099},
                    "steps": [1519],
                    "values": [0.0123456789],
                    "times": [1_000_099],
                    "stride": 1,
                    "partial": False,
                }
            },
            "agent": {
                "episode_return": {
                    "latest": {"step": 1234500, "value": 187.0, "time": 1_000_040},
                    "steps": [1234500],
                    "values": [187.0],
                    "times": [1_000_040],
                    "stride": 1,
                    "partial": False,
                },
                "diverged": {
                    "latest": {"step": 7, "value": None, "time": 1_000_000},
                    "steps": [7],
                    "values": [None],
                    "times": [1_000_000],
                    "stride": 1,
                    "partial": False,
                },
            },
        },
        "events": [],
        "stats": {"written": 3, "queued": 0, "dropped": 0, "logger_failures": {}},
    },
}

EXPECTED = """\
system        localhost:8391
status        paused
uptime        1h 03m 20s real, 1h 02m 03s pamiq time (time scale 2)
inference     1,234,567 steps, 99.8 steps/s
step period   p50 10.02 ms, p99 10.40 ms, max 21.30 ms
last save     /states/2026.state (12s ago)
failed saves  2, the latest 5s ago: [Errno 28] No space left on device (/states/2027.state)

trainer   runs      last      mean  since last
policy   1,520  42.10 ms  39.80 ms   500.00 ms
idle         0         -         -           -

model   syncs  training v.  inference v.  behind  last sync
policy  1,521        1,522         1,520       2    42.0 us
critic      0           15             -       -          -

buffer    size  capacity  fill
episodes   800     1,000   80%

scalar                     step     latest      logged
trainers/policy/loss      1,519  0.0123457      1s ago
agent/episode_return  1,234,500        187  1m 00s ago
agent/diverged                7          -  1m 40s ago"""


def test_renders_a_snapshot_as_tables() -> None:
    assert format_metrics(SNAPSHOT, "localhost:8391") == EXPECTED


def test_empty_sections_say_none() -> None:
    snapshot = {**SNAPSHOT, "trainers": {}, "models": {}, "buffers": {}}
    snapshot["system"] = {
        **SNAPSHOT["system"],
        "last_save": None,
        "time_scale": 1,
        "save_failures": 0,
        "last_save_failure": None,
    }
    lines = format_metrics(snapshot, "h:1").splitlines()
    assert "trainer: none" in lines
    assert "model: none" in lines
    assert "buffer: none" in lines
    assert "last save     none while running" in lines
    assert "failed saves  none" in lines
    assert "uptime        1h 03m 20s real, 1h 02m 03s pamiq time" in lines


def test_scalars_say_when_none_were_logged_and_what_was_lost() -> None:
    scalars = {
        **SNAPSHOT["scalars"],
        "groups": {},
        "stats": {
            "written": 0,
            "queued": 0,
            "dropped": 1200,
            "logger_failures": {"csv": 0, "mlflow": 3},
        },
    }
    lines = format_metrics({**SNAPSHOT, "scalars": scalars}, "h:1").splitlines()
    assert lines[-2:] == [
        "scalars: none logged",
        "1,200 values dropped (queue full), failed logger calls: mlflow 3",
    ]


def test_a_system_that_keeps_no_scalars_shows_no_scalar_section() -> None:
    text = format_metrics({**SNAPSHOT, "scalars": None}, "h:1")
    assert "scalar" not in text


def test_groups_that_train_elsewhere_get_a_table_that_shows_a_down_group() -> None:
    group = {
        "status": "down",
        "where": None,
        "down_reason": "node lost",
        "restarts": 1,
        "replicas": 1,
        "items_sent": 1234,
        "items_dropped": 5,
        "parameter_updates": 40,
        "parameter_bytes": 4000,
        "last_parameter_delay": 0.0123,
    }
    lines = format_metrics(
        {**SNAPSHOT, "scalars": None, "groups": {"training[a]": group}}, "h:1"
    )
    table = lines.split("\n\n")[-1].splitlines()
    assert table[0].split() == [
        "group",
        "status",
        "on",
        "restarts",
        "sent",
        "dropped",
        "updates",
        "last",
        "update",
    ]
    assert table[1].split() == [
        "training[a]",
        "down",
        "-",
        "1",
        "1,234",
        "5",
        "40",
        "12.30",
        "ms",
    ]


def test_without_groups_there_is_no_group_table() -> None:
    assert "group" not in format_metrics(
        {**SNAPSHOT, "scalars": None, "groups": {}}, "h:1"
    )


def test_a_trainer_that_never_syncs_a_model_it_trains_is_marked() -> None:
    trainers = {
        "policy": {**SNAPSHOT["trainers"]["policy"], "unsynced_models": ["q"]},
    }
    text = format_metrics({**SNAPSHOT, "trainers": trainers}, "h:1")
    lines = text.splitlines()
    assert any(line.startswith("policy (!)") for line in lines)
    assert (
        "(!) policy holds models it did not fetch, which its runs never sync: q; "
        "fetch them with get_training_model"
    ) in lines


def test_a_snapshot_without_measurements_still_renders() -> None:
    lines = format_metrics({}, "h:1").splitlines()
    assert lines[1] == "status        unknown"
    assert lines[4] == "step period   p50 -, p99 -, max -"
    assert lines[6] == "failed saves  none"


def test_renders_a_real_snapshot() -> None:
    """The keys it reads are the ones the metrics produce."""
    text = format_metrics(dict(sample_metrics().snapshot()), "h:1")
    assert "failed saves  1, the latest" in text
    assert "(/states/two.state)" in text
    assert "critic      0           15             -       -          -" in text
    assert "trainers/trainer/loss" in text
    assert text.splitlines()[-1].split()[:3] == ["agent/reward", "9", "9"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (float("nan"), "-"),
        (0, "0 s"),
        (0.0000042, "4.2 us"),
        (0.0042, "4.20 ms"),
        (4.2, "4.20 s"),
        (125, "2m 05s"),
        (90061, "1d 1h 01m"),
    ],
)
def test_durations_pick_their_unit(seconds: float | None, shown: str) -> None:
    assert format_seconds(seconds) == shown


def test_clock() -> None:
    assert format_clock(59.9) == "59s"
    assert format_clock(3600) == "1h 00m 00s"
    assert format_clock(None) == "-"
