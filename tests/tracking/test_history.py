import json
import math
import threading

import pytest

from pamiq_core.metrics import ScalarSeries
from pamiq_core.tracking import ScalarHistory, ScalarRecord


def records(name: str, values: list[float], first_step: int = 0) -> list[ScalarRecord]:
    return [
        ScalarRecord(name, v, first_step + i, 1000.0 + i) for i, v in enumerate(values)
    ]


def test_every_point_is_kept_until_the_series_is_full() -> None:
    history = ScalarHistory(max_points=8)
    history.add(records("loss", [1.0, 2.0, 3.0]))
    assert history.points("loss") == [
        (0, 1.0, 1000.0),
        (1, 2.0, 1001.0),
        (2, 3.0, 1002.0),
    ]
    assert history.latest("loss") == (2, 3.0, 1002.0)
    assert history.points("never") == []
    assert history.latest("never") is None


def test_a_full_series_merges_neighbours_and_keeps_one_resolution() -> None:
    history = ScalarHistory(max_points=4)
    history.add(records("x", [float(i) for i in range(16)]))
    # Reaching 4 points merges them into 2, so 16 values end as 2 points of 8:
    # each the mean of its values, at the step and time of the last of them.
    assert history.points("x") == [(7, 3.5, 1007.0), (15, 11.5, 1015.0)]
    history.add(records("x", [16.0, 17.0], first_step=16))  # a partial bucket shows
    assert history.points("x")[-1] == (17, 16.5, 1001.0)
    assert history.latest("x") == (17, 17.0, 1001.0)


def test_downsampling_preserves_the_mean_and_bounds_the_size() -> None:
    history = ScalarHistory(max_points=10)
    values = [math.sin(i / 7) for i in range(10_000)]
    history.add(records("wave", values))
    points = history.points("wave")
    assert len(points) <= 10
    # Every point stands for the same number of values; the last may be partial.
    assert points[-1][0] == 9_999
    stride = points[0][0] + 1
    steps = [step for step, _, _ in points]
    assert steps[:-1] == [stride * (i + 1) - 1 for i in range(len(steps) - 1)]
    for i, (_, value, _) in enumerate(points[:-1]):
        chunk = values[i * stride : (i + 1) * stride]
        assert value == pytest.approx(sum(chunk) / stride)


def test_an_odd_bound_is_rounded_down_to_merge_equal_pairs() -> None:
    history = ScalarHistory(max_points=5)
    history.add(records("x", [1.0] * 100))
    assert len(history.points("x")) <= 5
    assert {v for _, v, _ in history.points("x")} == {1.0}


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="max_points must be at least 2"):
        ScalarHistory(max_points=1)
    with pytest.raises(ValueError, match="max_events must be positive"):
        ScalarHistory(max_events=0)


def test_summary_groups_series_by_component_namespace() -> None:
    history = ScalarHistory()
    history.set_namespaces(["trainers/dqn", "agent", "agent/explorer", "environment"])
    history.add(
        [
            ScalarRecord("trainers/dqn/loss/policy", 0.5, 3, 10.0),
            ScalarRecord("agent/reward", 1.0, 7, 11.0),
            ScalarRecord("agent/explorer/epsilon", 0.1, 7, 11.0),
            ScalarRecord("world/temperature", 21.0, 0, 12.0),
            ScalarRecord("plain", 2.0, 0, 13.0),
        ]
    )
    groups = history.summary()["groups"]
    assert groups["trainers/dqn"]["loss/policy"]["latest"] == {
        "step": 3,
        "value": 0.5,
        "time": 10.0,
    }
    assert set(groups["agent"]) == {"reward"}
    assert set(groups["agent/explorer"]) == {"epsilon"}
    assert set(groups["world"]) == {"temperature"}
    assert set(groups[""]) == {"plain"}
    reward = groups["agent"]["reward"]
    assert (reward["steps"], reward["values"], reward["times"]) == ([7], [1.0], [11.0])


def test_summary_is_strict_json_even_with_nan_and_infinity() -> None:
    history = ScalarHistory()
    history.add(records("x", [math.nan, math.inf, 1.0]))
    history.record_event("pause")
    summary = history.summary()
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text)["groups"][""]["x"]["values"] == [None, None, 1.0]
    assert json.loads(text)["groups"][""]["x"]["latest"]["value"] == 1.0


def test_events_are_kept_with_their_time_newest_last_and_bounded() -> None:
    history = ScalarHistory(max_events=2)
    history.record_event("pause", wall_time=1.0)
    history.record_event("resume", wall_time=2.0)
    history.record_event("save", "states/2026.state", wall_time=3.0)
    assert history.summary()["events"] == [
        {"time": 2.0, "kind": "resume", "detail": None},
        {"time": 3.0, "kind": "save", "detail": "states/2026.state"},
    ]


def test_reading_while_the_writer_adds_sees_consistent_series() -> None:
    history = ScalarHistory(max_points=16)
    stop = threading.Event()
    problems: list[str] = []

    def read() -> None:
        while not stop.is_set():
            for series in history.summary()["groups"].get("", {}).values():
                steps = series["steps"]
                lengths = {len(series[k]) for k in ("steps", "values", "times")}
                if steps != sorted(steps) or len(steps) > 17 or len(lengths) != 1:
                    problems.append(f"inconsistent series: {series}")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    for batch in range(300):
        history.add(records("x", [1.0] * 50, first_step=batch * 50))
        history.record_event("save")
    stop.set()
    for reader in readers:
        reader.join()
    assert problems == []
    assert history.latest("x") == (14_999, 1.0, 1049.0)


def series_points(series: ScalarSeries) -> list[tuple[int, float | None]]:
    return list(zip(series["steps"], series["values"], strict=True))


class TestSummariesSinceACursor:
    """A poller gets each point about once: only what changed after its cursor."""

    def test_without_a_cursor_the_summary_holds_everything(self) -> None:
        history = ScalarHistory(max_points=8)
        history.add(records("x", [1.0, 2.0]))
        summary = history.summary()
        assert summary["since"] is None
        assert series_points(summary["groups"][""]["x"]) == [(0, 1.0), (1, 2.0)]

    def test_only_new_points_of_changed_series_and_new_events_follow(self) -> None:
        history = ScalarHistory(max_points=8)
        history.add(records("x", [1.0, 2.0]) + records("y", [5.0]))
        history.record_event("pause", wall_time=1.0)
        first = history.summary()
        history.add(records("x", [3.0], first_step=2))
        history.record_event("resume", wall_time=2.0)
        second = history.summary(first["cursor"])
        assert second["since"] == first["cursor"]
        assert set(second["groups"][""]) == {"x"}  # y did not change
        assert series_points(second["groups"][""]["x"]) == [(2, 3.0)]
        assert [e["kind"] for e in second["events"]] == ["resume"]
        third = history.summary(second["cursor"])
        assert third["groups"] == {}
        assert third["events"] == []
        assert third["cursor"] == second["cursor"]

    def test_a_partial_point_is_sent_again_until_it_is_complete(self) -> None:
        history = ScalarHistory(max_points=4)
        history.add(records("x", [0.0, 1.0, 2.0, 3.0]))  # full: merged to stride 2
        history.add(records("x", [10.0], first_step=4))
        first = history.summary()["groups"][""]["x"]
        assert first["stride"] == 2
        assert first["partial"]
        assert series_points(first) == [(1, 0.5), (3, 2.5), (4, 10.0)]
        cursor = history.summary()["cursor"]
        history.add(records("x", [20.0], first_step=5))
        second = history.summary(cursor)["groups"][""]["x"]
        assert not second["partial"]
        assert series_points(second) == [(5, 15.0)]  # replaces the partial (4, 10)

    def test_merging_the_client_side_rebuilds_the_series(self) -> None:
        """Polling with cursors and replacing partial points gives the same points
        as one summary at the end, while no series is halved in between."""
        history = ScalarHistory(max_points=64)
        client: list[tuple[int, float | None]] = []
        partial, cursor = False, None
        for batch in range(6):
            history.add(records("x", [float(i) for i in range(5)], batch * 5))
            summary = history.summary(cursor)
            series = summary["groups"][""]["x"]
            if partial:
                client.pop()
            client += series_points(series)
            partial, cursor = series["partial"], summary["cursor"]
        assert client == series_points(history.summary()["groups"][""]["x"])

    def test_a_cursor_of_another_history_gives_everything(self) -> None:
        old, new = ScalarHistory(), ScalarHistory()
        old.add(records("x", [1.0] * 5))
        new.add(records("x", [2.0]))
        summary = new.summary(old.summary()["cursor"])
        assert summary["since"] is None
        assert series_points(summary["groups"][""]["x"]) == [(0, 2.0)]

    @pytest.mark.parametrize("cursor", ["", "1234", "abc:", "abc:-1", "abc:x"])
    def test_a_malformed_cursor_is_refused(self, cursor: str) -> None:
        with pytest.raises(ValueError, match="is not a scalar history cursor"):
            ScalarHistory().summary(cursor)
