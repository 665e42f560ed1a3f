import json
import math
import threading
import time as std_time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pamiq_core import time
from pamiq_core.console.system_status import SystemStatus
from pamiq_core.metrics import Metrics, RunStats, StepPeriods, SyncStats, SystemStats


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
        assert math.isnan(summary["period_p50"])

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
        assert math.isnan(stats.summary()["mean_duration"])
        stats.record(1.0, finished_at=5.0)
        stats.record(3.0, finished_at=9.0)
        summary = stats.summary()
        assert summary.pop("since_last_run") == pytest.approx(
            time.fixed_perf_counter() - 9.0, abs=1.0
        )
        assert summary == {
            "runs": 2,
            "last_duration": 3.0,
            "mean_duration": 2.0,
            "last_finished_at": 9.0,
        }

    def test_time_since_the_last_run(self) -> None:
        stats = RunStats()
        assert math.isnan(stats.summary()["since_last_run"])
        stats.record(0.1, finished_at=time.fixed_perf_counter() - 5.0)
        assert 5.0 <= stats.summary()["since_last_run"] < 60.0


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
        }
        stats.training_version += 2
        assert stats.summary()["versions_behind"] == 2


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

    @pytest.mark.usefixtures("restore_global_time")
    def test_pamiq_uptime_stands_still_while_paused(self) -> None:
        stats = SystemStats()
        stats.start()
        time.pause()
        first = stats.summary()
        std_time.sleep(0.02)
        second = stats.summary()
        assert first["uptime"] == second["uptime"]
        assert second["uptime_real"] >= first["uptime_real"] + 0.02

    def test_records_the_latest_save(self) -> None:
        stats = SystemStats()
        before = std_time.time()
        stats.record_save(Path("/states/a.state"))
        stats.record_save(Path("/states/b.state"))
        last_save = stats.summary()["last_save"]
        assert last_save["path"] == str(Path("/states/b.state"))
        assert before <= last_save["time"] <= std_time.time()


class TestMetrics:
    def test_snapshot_is_json_ready(self) -> None:
        class Buffer:
            max_size = 10

            def __len__(self) -> int:
                return 4

        metrics = Metrics()
        metrics.trainers["t"] = RunStats()
        metrics.models["m"] = SyncStats()
        metrics.buffers["b"] = Buffer()
        metrics.buffers["plain"] = [1, 2]
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
        metrics = Metrics(status=lambda: SystemStatus.PAUSED)
        metrics.system.start()
        system = metrics.snapshot()["system"]
        assert system["status"] == SystemStatus.PAUSED.value
        assert system["status_name"] == "paused"
        assert system["uptime_real"] >= 0
        assert abs(metrics.snapshot()["time"] - std_time.time()) < 60
