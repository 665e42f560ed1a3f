"""Pamiq time: scalable, pausable clocks and a sleep that respects both.

Most tests run the controller on a :class:`ManualClock`, a stand-in for the real clocks
that moves only when the test advances it (trio's ``MockClock``, for threads): what is
checked (frozen while paused, waits out a pause, follows the scale) is checked
exactly, in microseconds, however loaded the machine. Durations are powers of two so
that the controller's arithmetic on them is exact. A few tests use the real clocks, to
check the wiring to them; they assert only what a slow machine cannot break.
"""

import math
import pickle
import threading
import time as std_time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pamiq_core import time
from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.time import InvalidTimeScaleError, TimeController

CLOCK_NAMES = ["time", "perf_counter", "monotonic"]
REAL_CLOCKS: list[tuple[str, Callable[[], float]]] = [
    ("time", std_time.time),
    ("perf_counter", std_time.perf_counter),
    ("monotonic", std_time.monotonic),
]
WAIT_TIMEOUT = 20.0
"""Real seconds a test waits for a sleeper thread before failing (a guard, not a pause)."""


class ManualClock:
    """The real clocks as ``pamiq_core.time`` sees them, moved only by :meth:`advance`.

    It replaces the module's standard ``time`` (``time``, ``perf_counter``,
    ``monotonic``) and its ``threading``, so that the controllers made while it is
    installed wait on :class:`ManualCondition` s: a timed wait ends when the clock
    is advanced to its deadline, never because real time passed. With
    :attr:`autojump`, a timed wait advances the clock to its deadline at once.
    """

    def __init__(self) -> None:
        # Powers of two apart from the epoch: sums with the tests' durations are exact.
        self._bases = {
            "time": 1_700_000_000.0,
            "perf_counter": 1024.0,
            "monotonic": 4096.0,
        }
        self._elapsed = 0.0
        self._changed = threading.Condition()  # guards _elapsed, _deadlines
        self._deadlines: list[float] = []  # one per wait in progress, on _elapsed
        self._conditions: list[threading.Condition] = []
        self.autojump = False
        self.waits_begun = 0

    def time(self) -> float:
        return self._bases["time"] + self._elapsed

    def perf_counter(self) -> float:
        return self._bases["perf_counter"] + self._elapsed

    def monotonic(self) -> float:
        return self._bases["monotonic"] + self._elapsed

    @property
    def elapsed(self) -> float:
        """Real seconds the test (or autojump) has advanced the clock by."""
        return self._elapsed

    def advance(self, secs: float) -> None:
        """Let ``secs`` real seconds pass; waits whose deadline came end."""
        with self._changed:
            self._elapsed += secs
            conditions = list(self._conditions)
        for condition in conditions:
            with condition:
                condition.notify_all()

    def wait_for_sleepers(self, *time_left: float) -> None:
        """Block until the waits in progress end in exactly ``time_left`` real seconds.

        ``math.inf`` stands for a wait without a timeout (one that only a pause,
        resume or scale change ends). Fails after :data:`WAIT_TIMEOUT` real seconds.
        """

        def left() -> list[float]:
            return sorted(deadline - self._elapsed for deadline in self._deadlines)

        with self._changed:
            if not self._changed.wait_for(
                lambda: left() == pytest.approx(sorted(time_left)), WAIT_TIMEOUT
            ):
                raise AssertionError(
                    f"expected sleepers waiting {sorted(time_left)} s, "
                    f"they wait {left()} s"
                )

    def condition(self, lock: threading.RLock) -> "ManualCondition":
        condition = ManualCondition(lock, self)
        with self._changed:
            self._conditions.append(condition.real)
        return condition

    def begin_wait(self, timeout: float | None) -> float:
        with self._changed:
            deadline = math.inf if timeout is None else self._elapsed + timeout
            self._deadlines.append(deadline)
            self.waits_begun += 1
            self._changed.notify_all()
        return deadline

    def end_wait(self, deadline: float) -> None:
        with self._changed:
            self._deadlines.remove(deadline)
            self._changed.notify_all()

    def has_reached(self, deadline: float) -> bool:
        return self._elapsed >= deadline


class ManualCondition:
    """A :class:`threading.Condition` whose timeouts run on a :class:`ManualClock`."""

    def __init__(self, lock: threading.RLock, clock: ManualClock) -> None:
        self.real = threading.Condition(lock)
        self._clock = clock
        self._notifications = 0

    def notify_all(self) -> None:
        self._notifications += 1
        self.real.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None and self._clock.autojump:
            self._clock.advance(timeout)
            return False
        seen = self._notifications
        deadline = self._clock.begin_wait(timeout)
        try:
            while self._notifications == seen and not self._clock.has_reached(deadline):
                self.real.wait()  # woken by notify_all or by the clock's advance
        finally:
            self._clock.end_wait(deadline)
        return self._notifications != seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """Installs a :class:`ManualClock` under ``pamiq_core.time``."""
    manual = ManualClock()
    monkeypatch.setattr(time, "_std_time", manual)
    monkeypatch.setattr(
        time,
        "threading",
        types.SimpleNamespace(RLock=threading.RLock, Condition=manual.condition),
    )
    return manual


@pytest.fixture
def controller(clock: ManualClock) -> TimeController:
    """A controller on the manual clock."""
    return TimeController()


@pytest.fixture
def real_controller() -> TimeController:
    """A controller on the real clocks."""
    return TimeController()


def read(controller: TimeController, name: str) -> float:
    reader: Callable[[], float] = getattr(controller, name)
    return reader()


def run_in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


class Sleeper:
    """Calls ``controller.sleep(secs)`` in a thread of its own."""

    def __init__(self, controller: TimeController, secs: float) -> None:
        self.done = threading.Event()
        self._thread = threading.Thread(
            target=self._sleep, args=(controller, secs), daemon=True
        )
        self._thread.start()

    def _sleep(self, controller: TimeController, secs: float) -> None:
        controller.sleep(secs)
        self.done.set()

    def wait_until_done(self) -> None:
        assert self.done.wait(WAIT_TIMEOUT), "the sleeper never woke up"
        self._thread.join(WAIT_TIMEOUT)


class TestClocks:
    @pytest.mark.parametrize(("name", "real"), REAL_CLOCKS)
    def test_a_fresh_controller_reads_like_the_real_clock(
        self, real_controller: TimeController, name: str, real: Callable[[], float]
    ) -> None:
        before = real()
        reading = read(real_controller, name)
        after = real()
        assert before - 1e-6 <= reading <= after + 1e-6  # 1e-6: rounding of anchors

    @pytest.mark.parametrize("name", CLOCK_NAMES)
    def test_running_clocks_count_real_time(
        self, clock: ManualClock, controller: TimeController, name: str
    ) -> None:
        start = read(controller, name)
        clock.advance(0.25)
        assert read(controller, name) - start == 0.25

    @pytest.mark.parametrize("name", CLOCK_NAMES)
    def test_paused_clocks_stand_still(
        self, clock: ManualClock, controller: TimeController, name: str
    ) -> None:
        controller.pause()
        frozen = read(controller, name)
        clock.advance(3600.0)
        assert read(controller, name) == frozen

    @pytest.mark.parametrize("name", CLOCK_NAMES)
    def test_paused_span_is_not_counted(
        self, clock: ManualClock, controller: TimeController, name: str
    ) -> None:
        before = read(controller, name)
        clock.advance(0.5)
        controller.pause()
        clock.advance(3600.0)
        controller.resume()
        clock.advance(0.25)
        assert read(controller, name) - before == 0.75

    @pytest.mark.parametrize("name", CLOCK_NAMES)
    def test_scale_makes_time_run_faster(
        self, clock: ManualClock, controller: TimeController, name: str
    ) -> None:
        controller.set_time_scale(8.0)
        start = read(controller, name)
        clock.advance(0.125)
        assert read(controller, name) - start == 1.0

    @pytest.mark.parametrize("name", CLOCK_NAMES)
    def test_readings_never_go_backwards(
        self, clock: ManualClock, controller: TimeController, name: str
    ) -> None:
        readings = [read(controller, name)]
        for scale in (3.0, 0.5, 1.0):
            controller.pause()
            readings.append(read(controller, name))
            clock.advance(0.1)
            controller.set_time_scale(scale)
            readings.append(read(controller, name))
            controller.resume()
            readings.append(read(controller, name))
            clock.advance(0.1)
            controller.state_dict()
            readings.append(read(controller, name))
        assert readings == sorted(readings)
        assert readings[-1] - readings[0] == pytest.approx(0.3 + 0.05 + 0.1)


class TestPauseAndScale:
    def test_pause_and_resume_are_idempotent(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        assert not controller.is_paused()
        controller.pause()
        frozen = controller.time()
        controller.pause()
        clock.advance(1.0)
        assert controller.is_paused()
        assert controller.time() == frozen
        controller.resume()
        controller.resume()
        assert not controller.is_paused()
        clock.advance(1.0)
        assert controller.time() == frozen + 1.0

    def test_scale_can_change_while_paused(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.pause()
        frozen = controller.time()
        controller.set_time_scale(4.0)
        assert controller.get_time_scale() == 4.0
        clock.advance(1.0)
        assert controller.time() == frozen
        controller.resume()
        clock.advance(1.0)
        assert controller.time() == frozen + 4.0  # the new rate applies after resume

    @pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
    def test_invalid_scale_is_rejected_with_the_value(
        self, real_controller: TimeController, scale: float
    ) -> None:
        with pytest.raises(ValueError, match="Time scale must be > 0") as info:
            real_controller.set_time_scale(scale)
        assert repr(scale) in str(info.value)
        assert isinstance(info.value, AssertionError)  # what 0.6 raised
        assert isinstance(info.value, InvalidTimeScaleError)
        assert real_controller.get_time_scale() == 1.0


class TestSleep:
    def test_sleeps_the_given_pamiq_duration(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        clock.autojump = True
        controller.sleep(0.5)
        assert clock.elapsed == 0.5

    def test_sleeps_the_scaled_duration(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.set_time_scale(4.0)
        clock.autojump = True
        controller.sleep(2.0)
        assert clock.elapsed == 0.5

    def test_a_real_sleep_lasts_at_least_its_duration(
        self, real_controller: TimeController
    ) -> None:
        start = std_time.perf_counter()
        real_controller.sleep(0.02)
        assert std_time.perf_counter() - start >= 0.02

    def test_scale_change_during_a_sleep_applies_to_the_rest(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        sleeper = Sleeper(controller, 2.0)
        clock.wait_for_sleepers(2.0)
        clock.advance(1.0)
        controller.set_time_scale(64.0)
        clock.wait_for_sleepers(1.0 / 64)  # the pamiq second left, at 64x
        assert not sleeper.done.is_set()
        clock.advance(1.0 / 64)
        sleeper.wait_until_done()

    def test_blocks_while_paused_and_wakes_on_resume(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.pause()
        sleeper = Sleeper(controller, 0.25)
        clock.wait_for_sleepers(math.inf)  # waits for the resume, not for a time
        clock.advance(3600.0)
        assert not sleeper.done.is_set()  # 0.6 returned at once
        controller.resume()
        clock.wait_for_sleepers(0.25)
        clock.advance(0.25)
        sleeper.wait_until_done()

    def test_a_pause_during_a_sleep_extends_it(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        sleeper = Sleeper(controller, 0.5)
        clock.wait_for_sleepers(0.5)
        clock.advance(0.25)
        controller.pause()
        clock.wait_for_sleepers(math.inf)
        clock.advance(3600.0)
        controller.resume()
        clock.wait_for_sleepers(0.25)  # the rest of the sleep, not counting the pause
        assert not sleeper.done.is_set()
        clock.advance(0.25)
        sleeper.wait_until_done()

    def test_does_not_use_the_cpu_while_paused(
        self, real_controller: TimeController
    ) -> None:
        real_controller.pause()
        sleeping = threading.Event()
        used: list[float] = []

        def sleep_and_measure() -> None:
            start = std_time.thread_time()
            sleeping.set()
            real_controller.sleep(0.01)
            used.append(std_time.thread_time() - start)

        sleeper = threading.Thread(target=sleep_and_measure, daemon=True)
        sleeper.start()
        assert sleeping.wait(WAIT_TIMEOUT)
        # Real time for the sleeper to spend paused: the span whose CPU cost is
        # measured (a thread polling the clock would use most of it).
        std_time.sleep(0.3)
        real_controller.resume()
        sleeper.join(WAIT_TIMEOUT)
        assert used[0] < 0.05

    def test_many_sleepers_all_wake_on_resume(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.pause()
        sleepers = [Sleeper(controller, 0.125) for _ in range(16)]
        clock.wait_for_sleepers(*[math.inf] * 16)
        controller.resume()
        clock.wait_for_sleepers(*[0.125] * 16)
        clock.advance(0.125)
        for sleeper in sleepers:
            sleeper.wait_until_done()

    @pytest.mark.parametrize("secs", [-0.1, float("nan")])
    def test_rejects_negative_durations(
        self, controller: TimeController, secs: float
    ) -> None:
        with pytest.raises(ValueError, match="non-negative"):
            controller.sleep(secs)

    def test_zero_returns_at_once(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.sleep(0)
        assert clock.waits_begun == 0


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
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.set_time_scale(1024.0)
        start = controller.time()
        for _ in range(100):
            controller.state_dict()
        # 0.6 moved the clock forward by the scaled time since the last read on
        # every read; here no real time passes, so no pamiq time may pass either.
        assert controller.time() == start
        clock.advance(1.0 / 1024)
        assert controller.time() == start + 1.0

    def test_loading_continues_from_the_saved_readings(
        self, clock: ManualClock, controller: TimeController
    ) -> None:
        controller.pause()
        saved = controller.state_dict()
        clock.advance(3600.0)  # the system is down for an hour
        restored = TimeController()
        restored.load_state_dict(saved)
        assert restored.time() == saved["scaled_anchor_time"]
        assert restored.perf_counter() == saved["scaled_anchor_perf_counter"]
        assert restored.monotonic() == saved["scaled_anchor_monotonic"]
        clock.advance(0.5)
        assert restored.time() == saved["scaled_anchor_time"] + 0.5

    def test_loading_keeps_scale_and_pause_state(
        self, real_controller: TimeController
    ) -> None:
        saved = TimeController().state_dict()
        real_controller.set_time_scale(2.0)
        real_controller.load_state_dict(saved)
        assert real_controller.get_time_scale() == 2.0
        assert not real_controller.is_paused()

    def test_save_and_load_use_one_pickle_file(
        self, real_controller: TimeController, tmp_path: Path
    ) -> None:
        controller = real_controller
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
        self, controller: TimeController, clock: ManualClock
    ) -> None:
        controller.use_virtual_time()
        before = readings(controller)
        clock.advance(0.02)
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
        self, controller: TimeController, clock: ManualClock
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
        clock.advance(0.01)  # the clock runs on until virtual time starts
        resumed.use_virtual_time(resumed.last_loaded_state())
        for secs in steps[100:]:
            controller.advance(secs)
            resumed.advance(secs)
            assert readings(resumed) == readings(controller)

    def test_last_loaded_state_is_what_was_loaded_not_where_the_clock_is_now(
        self, controller: TimeController, clock: ManualClock
    ) -> None:
        assert controller.last_loaded_state() is None
        state: TimeController.TimeControllerState = {
            "scaled_anchor_time": 7.0,
            "scaled_anchor_monotonic": 8.0,
            "scaled_anchor_perf_counter": 9.0,
        }
        controller.load_state_dict(state)
        clock.advance(0.01)
        assert controller.time() > 7.0
        assert controller.last_loaded_state() == state

    def test_loading_a_state_keeps_the_clocks_virtual(
        self, controller: TimeController, clock: ManualClock
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.load_state_dict(
            {
                "scaled_anchor_time": 7.0,
                "scaled_anchor_monotonic": 8.0,
                "scaled_anchor_perf_counter": 9.0,
            }
        )
        clock.advance(0.01)
        assert controller.is_virtual()
        assert readings(controller) == (7.0, 9.0, 8.0)

    def test_real_time_goes_on_from_the_last_virtual_reading(
        self, controller: TimeController, clock: ManualClock
    ) -> None:
        controller.use_virtual_time(time.VIRTUAL_EPOCH)
        controller.advance(1000.0)
        controller.use_real_time()
        assert not controller.is_virtual()
        first = readings(controller)
        assert all(1000.0 <= r < 1001.0 for r in first)
        clock.advance(0.02)
        assert all(r > f for r, f in zip(readings(controller), first, strict=True))

    def test_use_real_time_keeps_the_current_pause_and_scale(
        self, controller: TimeController, clock: ManualClock
    ) -> None:
        controller.use_virtual_time()
        controller.set_time_scale(2.0)
        controller.pause()
        controller.use_real_time()
        assert controller.is_paused()
        assert controller.get_time_scale() == 2.0
        frozen = controller.time()
        clock.advance(0.01)
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

    def test_pausing_through_the_module_pauses_the_global_clock(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        time.pause()
        assert time.get_global_time_controller().is_paused()
        frozen = time.time()
        with monkeypatch.context() as an_hour_later:
            # Only read while it is installed: the global clock is re-anchored (on
            # resume) after it is gone, so later tests see the real clocks.
            an_hour_later.setattr(time, "_std_time", HourLater())
            assert time.time() == frozen


class HourLater:
    """The real clocks, an hour from now."""

    def time(self) -> float:
        return std_time.time() + 3600.0

    def perf_counter(self) -> float:
        return std_time.perf_counter() + 3600.0

    def monotonic(self) -> float:
        return std_time.monotonic() + 3600.0
