"""Pamiq time: scalable, pausable clocks and a sleep that respects both.

Durations here are short real durations; tolerances are generous because the test
machine may be a loaded 2-core box. What is checked is behaviour (frozen while paused,
waits out a pause, follows the scale), not precision.
"""

import math
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


def readings(controller: TimeController) -> tuple[float, float, float]:
    return (controller.time(), controller.perf_counter(), controller.monotonic())


class TestVirtualTime:
    def test_virtual_clocks_stand_still_while_real_time_passes(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time()
        before = readings(controller)
        std_time.sleep(0.02)
        assert readings(controller) == before
        assert controller.is_virtual()

    def test_they_start_at_the_readings_given(self, controller: TimeController) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        assert readings(controller) == (0.0, 0.0, 0.0)

    def test_advance_moves_the_three_clocks_by_the_same_seconds(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(
            {
                "scaled_anchor_time": 100.0,
                "scaled_anchor_perf_counter": 10.0,
                "scaled_anchor_monotonic": 1.0,
            }
        )
        controller.advance(0.5)
        controller.advance(0.25)
        assert readings(controller) == (100.75, 10.75, 1.75)

    def test_sleep_moves_the_clocks_at_once_instead_of_waiting(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        start = std_time.perf_counter()
        controller.sleep(3600.0)
        assert std_time.perf_counter() - start < 1.0  # an hour, in no real time
        assert readings(controller) == (3600.0, 3600.0, 3600.0)

    def test_a_sleep_while_paused_waits_for_the_resume_then_moves_the_clocks(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.pause()
        slept = threading.Event()
        sleeper = run_in_thread(lambda: (controller.sleep(5.0), slept.set()))
        assert not slept.wait(0.05), "a virtual sleep ended while paused"
        assert controller.time() == 0.0
        controller.resume()
        assert slept.wait(10.0), "the sleep did not end after the resume"
        sleeper.join()
        assert controller.time() == 5.0

    def test_pause_resume_scale_and_state_reads_never_move_virtual_clocks(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.advance(1.5)
        controller.pause()
        controller.set_time_scale(4.0)
        controller.resume()
        state = controller.state_dict()
        assert readings(controller) == (1.5, 1.5, 1.5)
        assert state == {
            "scaled_anchor_time": 1.5,
            "scaled_anchor_monotonic": 1.5,
            "scaled_anchor_perf_counter": 1.5,
        }

    def test_advance_also_moves_paused_clocks(self, controller: TimeController) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.pause()
        controller.advance(2.0)
        assert controller.time() == 2.0

    def test_a_resumed_clock_reads_what_an_uninterrupted_one_reads_bit_for_bit(
        self, controller: TimeController
    ) -> None:
        steps = [0.1, 1 / 3, 0.02, 1e-9, 7.25] * 40
        controller.use_virtual_time(
            {
                "scaled_anchor_time": 1.7e9 + 0.123,
                "scaled_anchor_perf_counter": 12.5,
                "scaled_anchor_monotonic": 99.9,
            }
        )
        for secs in steps[:100]:
            controller.advance(secs)
        saved = pickle.loads(pickle.dumps(controller.state_dict()))
        resumed = TimeController()
        resumed.load_state_dict(saved)
        std_time.sleep(0.01)  # the clock runs on until virtual time starts
        resumed.use_virtual_time(resumed.last_loaded_state())
        for secs in steps[100:]:
            controller.advance(secs)
            resumed.advance(secs)
            assert readings(resumed) == readings(controller)

    def test_last_loaded_state_is_what_was_loaded_not_where_the_clock_is_now(
        self, controller: TimeController
    ) -> None:
        assert controller.last_loaded_state() is None
        state: TimeController.TimeControllerState = {
            "scaled_anchor_time": 7.0,
            "scaled_anchor_monotonic": 8.0,
            "scaled_anchor_perf_counter": 9.0,
        }
        controller.load_state_dict(state)
        std_time.sleep(0.01)
        assert controller.time() > 7.0
        assert controller.last_loaded_state() == state

    def test_loading_a_state_keeps_the_clocks_virtual(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.load_state_dict(
            {
                "scaled_anchor_time": 7.0,
                "scaled_anchor_monotonic": 8.0,
                "scaled_anchor_perf_counter": 9.0,
            }
        )
        std_time.sleep(0.01)
        assert controller.is_virtual()
        assert readings(controller) == (7.0, 9.0, 8.0)

    def test_real_time_goes_on_from_the_last_virtual_reading(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.advance(1000.0)
        controller.use_real_time()
        assert not controller.is_virtual()
        first = readings(controller)
        assert all(1000.0 <= r < 1001.0 for r in first)
        std_time.sleep(0.02)
        assert all(r > f for r, f in zip(readings(controller), first, strict=True))

    def test_use_real_time_keeps_the_current_pause_and_scale(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time()
        controller.set_time_scale(2.0)
        controller.pause()
        controller.use_real_time()
        assert controller.is_paused()
        assert controller.get_time_scale() == 2.0
        frozen = controller.time()
        std_time.sleep(0.01)
        assert controller.time() == frozen
        controller.use_real_time()  # idempotent

    def test_advance_needs_virtual_time(self, controller: TimeController) -> None:
        with pytest.raises(RuntimeError, match="use_virtual_time"):
            controller.advance(1.0)

    @pytest.mark.parametrize("secs", [-1.0, math.nan, math.inf])
    def test_advance_refuses_what_is_not_a_finite_non_negative_number(
        self, controller: TimeController, secs: float
    ) -> None:
        controller.use_virtual_time()
        with pytest.raises(ValueError, match=str(secs)):
            controller.advance(secs)

    def test_many_threads_advancing_lose_no_step(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        threads = [
            run_in_thread(lambda: [controller.advance(1.0) for _ in range(2000)])
            for _ in range(8)
        ]
        for thread in threads:
            thread.join()
        assert readings(controller) == (16000.0, 16000.0, 16000.0)

    def test_a_pause_racing_with_advances_keeps_every_step(
        self, controller: TimeController
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        done = threading.Event()

        def toggle() -> None:
            while not done.is_set():
                controller.pause()
                controller.resume()

        toggler = run_in_thread(toggle)
        for _ in range(5000):
            controller.advance(0.5)
        done.set()
        toggler.join()
        assert readings(controller) == (2500.0, 2500.0, 2500.0)


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
            "is_virtual",
            "advance",
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
