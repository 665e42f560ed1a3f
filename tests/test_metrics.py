import json
import threading
import time as std_time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from pamiq_core import time
from pamiq_core.console.system_status import SystemStatus
from pamiq_core.metrics import (
    BufferSummary,
    Metrics,
    MetricsSnapshot,
    RunStats,
    RunSummary,
    ScalarEvent,
    ScalarLatest,
    ScalarSeries,
    ScalarsSummary,
    StepPeriods,
    StepSummary,
    SyncStats,
    SyncSummary,
    SystemStats,
    SystemSummary,
    TrackingCounters,
)
from pamiq_core.model import TrainingModel
from pamiq_core.tracking import Tracker, log_scalar


class TestStepPeriods:
    def test_window_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="window must be positive"):
            StepPeriods(0)

    def test_first_tick_has_no_period(self) -> None:
        steps = StepPeriods()
        steps.tick(10.0)
        assert steps.steps == 1
        assert steps.periods() == []
        summary = steps.summary()
        assert summary["steps_per_second"] == 0.0
        assert summary["period_p50"] is None

    def test_statistics_of_the_periods(self) -> None:
        steps = StepPeriods()
        now = 0.0
        for period in [0.01] * 98 + [0.02, 0.05]:
            steps.tick(now)
            now += period
        steps.tick(now)
        summary = steps.summary()
        assert summary["steps"] == 101
        assert summary["period_p50"] == pytest.approx(0.01)
        assert summary["period_p99"] == pytest.approx(0.02)
        assert summary["period_max"] == pytest.approx(0.05)
        assert summary["steps_per_second"] == pytest.approx(100 / 1.05)

    def test_keeps_only_the_recent_window(self) -> None:
        steps = StepPeriods(window=4)
        for now in [0.0, 1.0, 2.0, 2.5, 3.0, 3.1, 3.2]:
            steps.tick(now)
        assert sorted(steps.periods()) == pytest.approx([0.1, 0.1, 0.5, 0.5])
        assert steps.steps == 7

    def test_restart_skips_the_gap(self) -> None:
        steps = StepPeriods()
        steps.tick(0.0)
        steps.tick(1.0)
        steps.restart()
        steps.tick(100.0)
        steps.tick(101.0)
        assert steps.periods() == [1.0, 1.0]

    def test_statistics_cover_every_period_since_they_were_last_taken(self) -> None:
        steps = StepPeriods(window=2)  # the window does not limit them
        assert steps.take_statistics() == (0, 0.0, 0.0)
        for now in [0.0, 1.0, 3.0, 6.0]:
            steps.tick(now)
        count, mean, deviation = steps.take_statistics()
        assert (count, mean, deviation) == (3, 2.0, pytest.approx(1.0))
        steps.restart()  # a pause is not a period
        steps.tick(100.0)
        steps.tick(100.5)
        assert steps.take_statistics() == (1, 0.5, 0.0)

    def test_the_deviation_of_very_even_periods_stays_exact(self) -> None:
        # 1 ms +/- 10 ps: a sum of squares of the periods cancels to a deviation
        # about 14 times too large here; a running update keeps it.
        steps = StepPeriods()
        now = 0.0
        for n in range(10_000):
            steps.tick(now)
            now += 1e-3 + (1e-11 if n % 2 else -1e-11)
        count, mean, deviation = steps.take_statistics()
        assert count == 9_999
        assert mean == pytest.approx(1e-3, rel=1e-9)
        assert deviation == pytest.approx(1e-11, rel=0.01)

    def test_reading_while_writing_never_fails(self) -> None:
        steps = StepPeriods(window=64)
        done = threading.Event()

        def write() -> None:
            now = 0.0
            while not done.is_set():
                now += 0.001
                steps.tick(now)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            for _ in range(2000):
                summary = steps.summary()
                assert summary["steps"] >= 0
        finally:
            done.set()
            writer.join()


class TestRunStats:
    def test_counts_runs_and_durations(self) -> None:
        stats = RunStats()
        assert stats.summary()["mean_duration"] is None
        stats.record(1.0, finished_at=5.0)
        stats.record(3.0, finished_at=9.0)
        summary = dict(stats.summary())
        assert summary.pop("since_last_run") == pytest.approx(
            time.fixed_perf_counter() - 9.0, abs=1.0
        )
        assert summary == {
            "runs": 2,
            "last_duration": 3.0,
            "mean_duration": 2.0,
            "last_finished_at": 9.0,
            "unsynced_models": [],
        }

    def test_names_the_models_the_latest_run_held_without_fetching(self) -> None:
        stats = RunStats()
        stats.record(1.0, finished_at=5.0, unsynced_models=("q", "target"))
        assert stats.summary()["unsynced_models"] == ["q", "target"]
        stats.record(1.0, finished_at=6.0)  # fixed since: the mark goes
        assert stats.summary()["unsynced_models"] == []

    def test_time_since_the_last_run(self) -> None:
        stats = RunStats()
        assert stats.summary()["since_last_run"] is None
        stats.record(0.1, finished_at=time.fixed_perf_counter() - 5.0)
        since = stats.summary()["since_last_run"]
        assert since is not None
        assert 5.0 <= since < 60.0


class TestSyncStats:
    def test_sync_catches_the_inference_version_up(self) -> None:
        stats = SyncStats()
        stats.training_version += 3
        assert stats.summary()["inference_version"] == 0
        stats.record_sync(0.002)
        assert stats.summary() == {
            "syncs": 1,
            "last_sync_duration": 0.002,
            "training_version": 3,
            "inference_version": 3,
            "versions_behind": 0,
            "syncs_inference_model": True,
        }
        stats.training_version += 2
        assert stats.summary()["versions_behind"] == 2

    def test_a_model_without_a_synced_inference_side_reports_no_lag(self) -> None:
        stats = SyncStats(syncs_inference_model=False)
        stats.training_version += 15
        summary = stats.summary()
        assert summary["training_version"] == 15
        assert summary["inference_version"] is None
        assert summary["versions_behind"] is None
        assert summary["syncs_inference_model"] is False

    @pytest.mark.parametrize(
        ("options", "synced"),
        [
            ({}, True),
            ({"has_inference_model": False}, False),
            ({"inference_thread_only": True}, False),
        ],
    )
    def test_a_training_model_says_whether_it_syncs_an_inference_model(
        self, options: dict[str, bool], synced: bool
    ) -> None:
        class Model(TrainingModel[Any]):
            def _create_inference_model(self) -> Any:
                raise NotImplementedError

            def forward(self) -> None:
                pass

            def sync_impl(self, inference_model: Any) -> None:
                pass

        assert Model(**options).sync_stats.syncs_inference_model is synced


@pytest.fixture
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


class TestSystemStats:
    def test_nothing_before_the_start(self) -> None:
        summary = SystemStats().summary()
        assert summary["uptime"] is None
        assert summary["uptime_real"] is None
        assert summary["last_save"] is None
        assert summary["time_scale"] == 1.0
        assert summary["save_failures"] == 0
        assert summary["last_save_failure"] is None
        assert summary["status"] is None

    @pytest.mark.usefixtures("restore_global_time")
    def test_pamiq_uptime_stands_still_while_paused(self) -> None:
        stats = SystemStats()
        stats.start()
        time.pause()
        first = stats.summary()
        std_time.sleep(0.02)  # real time must pass for real uptime to grow
        second = stats.summary()
        assert first["uptime"] == second["uptime"]
        assert first["uptime_real"] is not None
        assert second["uptime_real"] is not None
        assert second["uptime_real"] >= first["uptime_real"] + 0.02

    def test_records_the_latest_save(self) -> None:
        stats = SystemStats()
        before = std_time.time()
        stats.record_save(Path("/states/a.state"))
        stats.record_save(Path("/states/b.state"))
        last_save = stats.summary()["last_save"]
        assert last_save is not None
        assert last_save["path"] == str(Path("/states/b.state"))
        assert before <= last_save["time"] <= std_time.time()

    def test_counts_failed_saves_and_keeps_the_latest(self) -> None:
        stats = SystemStats()
        before = std_time.time()
        stats.record_save_failure(None, "pausing timed out")
        stats.record_save_failure("/states/c.state", "[Errno 28] No space left")
        summary = stats.summary()
        assert summary["save_failures"] == 2
        failure = summary["last_save_failure"]
        assert failure is not None
        assert failure["message"] == "[Errno 28] No space left"
        assert failure["path"] == "/states/c.state"
        assert before <= failure["time"] <= std_time.time()

    def test_a_reader_never_sees_a_count_without_its_failure(self) -> None:
        stats = SystemStats()
        done = threading.Event()

        def write() -> None:
            for n in range(1, 20001):
                stats.record_save_failure(f"/states/{n}", f"failure {n}")
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while not done.is_set():
                summary = stats.summary()
                failure = summary["last_save_failure"]
                count = summary["save_failures"]
                if failure is None:
                    assert count == 0
                else:
                    assert failure["message"] == f"failure {count}"
                    assert failure["path"] == f"/states/{count}"
        finally:
            writer.join()
        assert stats.summary()["save_failures"] == 20000


class TestMetrics:
    def test_snapshot_is_json_ready(self) -> None:
        class Buffer:
            max_size = 10

            def __len__(self) -> int:
                return 4

        metrics = Metrics(
            trainers={"t": RunStats()},
            models={"m": SyncStats()},
            buffers={"b": Buffer(), "plain": [1, 2]},
        )
        snapshot = metrics.snapshot()
        json.dumps(snapshot, allow_nan=False)
        assert snapshot["buffers"] == {
            "b": {"size": 4, "capacity": 10},
            "plain": {"size": 2, "capacity": None},
        }
        assert snapshot["trainers"]["t"]["mean_duration"] is None
        assert snapshot["models"]["m"]["syncs"] == 0
        assert snapshot["inference"]["steps"] == 0
        assert snapshot["system"]["status"] is None
        assert snapshot["system"]["uptime"] is None

    def test_snapshot_reports_the_status(self) -> None:
        stats = SystemStats()
        stats.start()
        metrics = Metrics(system=stats, status=lambda: SystemStatus.PAUSED)
        system = metrics.snapshot()["system"]
        assert system["status"] == SystemStatus.PAUSED.value
        assert system["status_name"] == "paused"
        assert system["uptime_real"] is not None
        assert system["uptime_real"] >= 0
        assert abs(metrics.snapshot()["time"] - std_time.time()) < 60

    def test_any_object_with_a_summary_can_stand_in_for_a_part(self) -> None:
        """What a proxy for a trainer in another process would do."""

        class RemoteTrainer:
            def summary(self) -> RunSummary:
                return {
                    "runs": 7,
                    "last_duration": 0.5,
                    "mean_duration": 0.4,
                    "last_finished_at": None,
                    "since_last_run": None,
                    "unsynced_models": [],
                }

        snapshot = Metrics(trainers={"remote": RemoteTrainer()}).snapshot()
        assert snapshot["trainers"]["remote"]["runs"] == 7

    def test_without_a_scalars_source_there_are_no_scalars(self) -> None:
        assert Metrics().snapshot()["scalars"] is None

    def test_scalars_come_from_the_tracking_and_continue_a_cursor(self) -> None:
        with Tracker([]) as tracker:
            metrics = Metrics(scalars=tracker.summary)
            log_scalar("trainers/dqn/loss", 0.5, step=0)
            tracker.flush()
            first = metrics.snapshot()["scalars"]
            assert first is not None
            log_scalar("trainers/dqn/loss", 0.25, step=1)
            tracker.flush()
            newer = metrics.snapshot(scalars_since=first["cursor"])["scalars"]
        assert newer is not None
        assert first["groups"]["trainers/dqn"]["loss"]["values"] == [0.5]
        assert newer["groups"]["trainers/dqn"]["loss"]["values"] == [0.25]
        assert newer["stats"]["written"] == 2
        with pytest.raises(ValueError, match="not a scalar history cursor"):
            metrics.snapshot(scalars_since="yesterday")

    def test_the_snapshot_has_exactly_the_keys_its_types_declare(self) -> None:
        with Tracker([]) as tracker:
            log_scalar("agent/reward", 1.0, step=3)
            tracker.record_event("pause")
            tracker.flush()
            snapshot = Metrics(
                trainers={"t": RunStats()},
                models={"m": SyncStats()},
                buffers={"b": []},
                scalars=tracker.summary,
            ).snapshot()
        scalars = snapshot["scalars"]
        assert scalars is not None
        reward = scalars["groups"]["agent"]["reward"]
        parts: list[tuple[Any, Any]] = [
            (snapshot, MetricsSnapshot),
            (snapshot["system"], SystemSummary),
            (snapshot["inference"], StepSummary),
            (snapshot["trainers"]["t"], RunSummary),
            (snapshot["models"]["m"], SyncSummary),
            (snapshot["buffers"]["b"], BufferSummary),
            (scalars, ScalarsSummary),
            (scalars["stats"], TrackingCounters),
            (scalars["events"][0], ScalarEvent),
            (reward, ScalarSeries),
            (reward["latest"], ScalarLatest),
        ]
        for value, declared in parts:
            assert list(value) == list(get_type_hints(declared)), declared.__name__
