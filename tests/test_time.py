"""Pamiq time: scalable, pausable clocks and a sleep that respects both.

Durations here are short real durations; tolerances are generous because the test
machine may be a loaded 2-core box. What is checked is behaviour (frozen while paused,
waits out a pause, follows the scale), not precision.
"""

import pickle
import threading
import time as std_time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pamiq_core import time
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.time import InvalidTimeScaleError, TimeController

CLOCKS: list[tuple[str, Callable[[], float]]] = [
    ("time", std_time.time),
    ("perf_counter", std_time.perf_counter),
    ("monotonic", std_time.monotonic),
]


@pytest.fixture
def controller() -> TimeController:
    return TimeController()


def read(controller: TimeController, clock: str) -> float:
    reader: Callable[[], float] = getattr(controller, clock)
    return reader()


def run_in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


class TestClocks:
    @pytest.mark.parametrize(("clock", "real"), CLOCKS)
    def test_a_fresh_controller_reads_like_the_real_clock(
        self, controller: TimeController, clock: str, real: Callable[[], float]
    ) -> None:
        assert read(controller, clock) == pytest.approx(real(), abs=0.01)

    @pytest.mark.parametrize(("clock", "real"), CLOCKS)
    def test_paused_clocks_stand_still(
        self, controller: TimeController, clock: str, real: Callable[[], float]
    ) -> None:
        controller.pause()
        frozen = read(controller, clock)
        std_time.sleep(0.02)
        assert read(controller, clock) == frozen

    @pytest.mark.parametrize(("clock", "real"), CLOCKS)
    def test_paused_span_is_not_counted(
        self, controller: TimeController, clock: str, real: Callable[[], float]
    ) -> None:
        before = read(controller, clock)
        controller.pause()
        std_time.sleep(0.2)
        controller.resume()
        assert read(controller, clock) - before < 0.15

    @pytest.mark.parametrize(("clock", "real"), CLOCKS)
    def test_scale_makes_time_run_faster(
        self, controller: TimeController, clock: str, real: Callable[[], float]
    ) -> None:
        controller.set_time_scale(10.0)
        real_start, start = real(), read(controller, clock)
        std_time.sleep(0.05)
        pamiq_elapsed = read(controller, clock) - start
        real_elapsed = real() - real_start
        assert pamiq_elapsed == pytest.approx(10 * real_elapsed, rel=0.2)

    @pytest.mark.parametrize(("clock", "real"), CLOCKS)
    def test_readings_never_go_backwards(
        self, controller: TimeController, clock: str, real: Callable[[], float]
    ) -> None:
        readings = [read(controller, clock)]
        for scale in (3.0, 0.5, 1.0):
            controller.pause()
            readings.append(read(controller, clock))
            controller.set_time_scale(scale)
            readings.append(read(controller, clock))
            controller.resume()
            readings.append(read(controller, clock))
            controller.state_dict()
            readings.append(read(controller, clock))
        assert readings == sorted(readings)


class TestPauseAndScale:
    def test_pause_and_resume_are_idempotent(self, controller: TimeController) -> None:
        assert not controller.is_paused()
        controller.pause()
        frozen = controller.time()
        controller.pause()
        assert controller.is_paused()
        assert controller.time() == frozen
        controller.resume()
        controller.resume()
        assert not controller.is_paused()

    def test_scale_can_change_while_paused(self, controller: TimeController) -> None:
        controller.pause()
        frozen = controller.time()
        controller.set_time_scale(4.0)
        assert controller.get_time_scale() == 4.0
        assert controller.time() == frozen

    @pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
    def test_invalid_scale_is_rejected_with_the_value(
        self, controller: TimeController, scale: float
    ) -> None:
        with pytest.raises(ValueError, match="Time scale must be > 0") as info:
            controller.set_time_scale(scale)
        assert repr(scale) in str(info.value)
        assert isinstance(info.value, AssertionError)  # what 0.6 raised
        assert isinstance(info.value, InvalidTimeScaleError)
        assert controller.get_time_scale() == 1.0


class TestSleep:
    def test_sleeps_the_given_pamiq_duration(self, controller: TimeController) -> None:
        start = std_time.perf_counter()
        controller.sleep(0.05)
        assert std_time.perf_counter() - start >= 0.05

    def test_sleeps_the_scaled_duration(self, controller: TimeController) -> None:
        controller.set_time_scale(5.0)
        start = std_time.perf_counter()
        controller.sleep(0.5)
        elapsed = std_time.perf_counter() - start
        assert 0.1 <= elapsed < 0.4

    def test_scale_change_during_a_sleep_applies_to_the_rest(
        self, controller: TimeController
    ) -> None:
        start = std_time.perf_counter()
        sleeper = run_in_thread(lambda: controller.sleep(2.0))
        std_time.sleep(0.05)
        controller.set_time_scale(100.0)
        sleeper.join(timeout=1.0)
        assert not sleeper.is_alive()
        assert std_time.perf_counter() - start < 1.0

    def test_blocks_while_paused_and_wakes_on_resume(
        self, controller: TimeController
    ) -> None:
        controller.pause()
        sleeper = run_in_thread(lambda: controller.sleep(0.01))
        sleeper.join(timeout=0.2)
        assert sleeper.is_alive()  # 0.6 returned at once; we wait for resume
        controller.resume()
        sleeper.join(timeout=5.0)
        assert not sleeper.is_alive()

    def test_a_pause_during_a_sleep_extends_it(
        self, controller: TimeController
    ) -> None:
        sleeper = run_in_thread(lambda: controller.sleep(0.1))
        controller.pause()
        sleeper.join(timeout=0.3)
        assert sleeper.is_alive()
        controller.resume()
        sleeper.join(timeout=5.0)
        assert not sleeper.is_alive()

    def test_does_not_spin_while_paused(self, controller: TimeController) -> None:
        controller.pause()
        cpu_before = std_time.thread_time()
        done = threading.Event()
        used: list[float] = []

        def sleep_and_measure() -> None:
            start = std_time.thread_time()
            controller.sleep(0.01)
            used.append(std_time.thread_time() - start)
            done.set()

        sleeper = run_in_thread(sleep_and_measure)
        std_time.sleep(0.3)
        controller.resume()
        assert done.wait(timeout=5.0)
        sleeper.join()
        assert std_time.thread_time() - cpu_before < 0.1
        assert used[0] < 0.05  # CPU time of the sleeper over 0.3 s of pause

    def test_many_sleepers_all_wake_on_resume(self, controller: TimeController) -> None:
        controller.pause()
        sleepers = [run_in_thread(lambda: controller.sleep(0.001)) for _ in range(16)]
        controller.resume()
        for sleeper in sleepers:
            sleeper.join(timeout=5.0)
            assert not sleeper.is_alive()

    @pytest.mark.parametrize("secs", [-0.1, float("nan")])
    def test_rejects_negative_durations(
        self, controller: TimeController, secs: float
    ) -> None:
        with pytest.raises(ValueError, match="non-negative"):
            controller.sleep(secs)

    def test_zero_returns_at_once(self, controller: TimeController) -> None:
        controller.sleep(0)


class TestState:
    def test_state_dict_reports_the_current_readings(
        self, controller: TimeController
    ) -> None:
        controller.pause()
        state = controller.state_dict()
        assert state == {
            "scaled_anchor_time": controller.time(),
            "scaled_anchor_monotonic": controller.monotonic(),
            "scaled_anchor_perf_counter": controller.perf_counter(),
        }
        assert state["scaled_anchor_time"] == controller._anchors.scaled_time

    def test_reading_the_state_never_moves_time(
        self, controller: TimeController
    ) -> None:
        controller.set_time_scale(1000.0)
        for _ in range(100):
            controller.state_dict()
        # 100 reads take far less than a millisecond of real time per read; if each
        # read jumped time forward by the scaled time since the last anchoring (0.6),
        # the clock would run ahead of real time x scale.
        start_real = std_time.time()
        start = controller.time()
        for _ in range(100):
            controller.state_dict()
        elapsed_real = std_time.time() - start_real
        assert controller.time() - start <= 1000.0 * elapsed_real * 1.5 + 0.01

    def test_loading_continues_from_the_saved_readings(
        self, controller: TimeController
    ) -> None:
        controller.pause()
        saved = controller.state_dict()
        restored = TimeController()
        restored.pause()
        restored.load_state_dict(saved)
        assert restored.time() == saved["scaled_anchor_time"]
        assert restored.perf_counter() == saved["scaled_anchor_perf_counter"]
        assert restored.monotonic() == saved["scaled_anchor_monotonic"]

    def test_loading_keeps_scale_and_pause_state(
        self, controller: TimeController
    ) -> None:
        saved = TimeController().state_dict()
        controller.set_time_scale(2.0)
        controller.load_state_dict(saved)
        assert controller.get_time_scale() == 2.0
        assert not controller.is_paused()

    def test_save_and_load_use_one_pickle_file(
        self, controller: TimeController, tmp_path: Path
    ) -> None:
        assert isinstance(controller, PersistentStateMixin)
        controller.pause()
        controller.save_state(tmp_path / "time")
        assert [p.name for p in tmp_path.iterdir()] == ["time.pkl"]
        on_disk = pickle.loads((tmp_path / "time.pkl").read_bytes())
        assert type(on_disk) is dict
        assert on_disk == controller.state_dict()
        restored = TimeController()
        restored.pause()
        restored.load_state(tmp_path / "time")
        assert restored.time() == controller.time()

    def test_with_lock_runs_the_method_under_the_lock(self) -> None:
        class Probe(TimeController):
            @TimeController.with_lock
            def owned(self) -> bool:
                return self._lock._is_owned()  # type: ignore[attr-defined]

        assert Probe().owned()


class TestModuleFunctions:
    @pytest.fixture(autouse=True)
    def restore_global_clock(self) -> Iterator[None]:
        yield
        time.resume()
        time.set_time_scale(1.0)

    def test_are_the_global_controllers_bound_methods(self) -> None:
        controller = time.get_global_time_controller()
        assert isinstance(controller, TimeController)
        for name in (
            "is_paused",
            "sleep",
            "time",
            "perf_counter",
            "monotonic",
            "set_time_scale",
            "get_time_scale",
            "pause",
            "resume",
            "state_dict",
            "load_state_dict",
        ):
            assert getattr(time, name) == getattr(controller, name)

    def test_fixed_clocks_are_the_standard_ones(self) -> None:
        assert time.fixed_sleep is std_time.sleep
        assert time.fixed_time is std_time.time

    def test_pausing_through_the_module_pauses_the_global_clock(self) -> None:
        time.pause()
        assert time.get_global_time_controller().is_paused()
        frozen = time.time()
        std_time.sleep(0.01)
        assert time.time() == frozen
