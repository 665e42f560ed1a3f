import math
import threading
import time as std_time
from collections.abc import Iterator

import pytest

from pamiq_core import time
from pamiq_core.interaction import IntervalAdjustor, SleepIntervalAdjustor
from pamiq_core.time import TimeController


class FakeClock:
    """Pamiq time under the test's control.

    ``sleep`` advances the clock by exactly the requested time; every
    ``perf_counter`` read advances it by ``tick`` (time passing while code spins).
    ``sleep`` while paused "waits for the resume": it resumes and advances nothing.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.tick = 0.0
        self.scale = 1.0
        self.paused = False
        self.sleeps: list[float] = []
        self.reads = 0
        self.reads_while_paused = 0

    def perf_counter(self) -> float:
        self.reads += 1
        if self.paused:
            self.reads_while_paused += 1
            return self.now
        self.now += self.tick
        return self.now

    def sleep(self, secs: float) -> None:
        assert secs >= 0
        self.sleeps.append(secs)
        if self.paused:
            self.paused = False
        else:
            self.now += secs

    def is_paused(self) -> bool:
        return self.paused

    def get_time_scale(self) -> float:
        return self.scale


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    for name in ("perf_counter", "sleep", "is_paused", "get_time_scale"):
        monkeypatch.setattr(time, name, getattr(fake, name))
    return fake


@pytest.fixture
def sleep_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No final spin: the adjustor's plain sleeping logic."""
    monkeypatch.setattr(SleepIntervalAdjustor, "spin_margin", 0.0)


class Waiting(IntervalAdjustor):
    """Adjusts by letting a fixed amount of pamiq time pass."""

    def __init__(self, clock: FakeClock, wait: float) -> None:
        super().__init__(1.0)
        self.clock = clock
        self.wait = wait

    def adjust_impl(self) -> None:
        self.clock.now += self.wait


class TestIntervalAdjustor:
    def test_adjust_impl_is_the_abstract_method(self) -> None:
        assert IntervalAdjustor.__abstractmethods__ == {"adjust_impl"}

    def test_offset_is_subtracted_from_the_wait(self) -> None:
        adjustor = SleepIntervalAdjustor(0.1, 0.03)
        assert (adjustor._interval, adjustor._offset) == (0.1, 0.03)
        assert adjustor._time_to_wait == pytest.approx(0.07)

    def test_never_reset_means_an_infinite_delta(self, clock: FakeClock) -> None:
        assert IntervalAdjustor._last_reset_time == -math.inf
        assert Waiting(clock, 0.5).adjust() == math.inf

    def test_reset_returns_the_new_reference_point(self, clock: FakeClock) -> None:
        adjustor = Waiting(clock, 0.5)
        assert adjustor.reset() == 1000.0
        assert adjustor._last_reset_time == 1000.0

    def test_adjust_returns_time_since_the_reset_and_resets(
        self, clock: FakeClock
    ) -> None:
        adjustor = Waiting(clock, 0.5)
        adjustor.reset()
        clock.now += 0.25  # the step's own work
        assert adjustor.adjust() == pytest.approx(0.75)
        assert adjustor._last_reset_time == 1000.75
        assert adjustor.adjust() == pytest.approx(0.5)


@pytest.mark.usefixtures("sleep_only")
class TestSleepingToTheDeadline:
    def test_sleeps_what_is_left_of_the_period(self, clock: FakeClock) -> None:
        adjustor = SleepIntervalAdjustor(0.1)
        adjustor.reset()
        clock.now += 0.03
        assert adjustor.adjust() == pytest.approx(0.1)
        assert clock.sleeps == [pytest.approx(0.07)]

    def test_offset_shortens_every_period(self, clock: FakeClock) -> None:
        adjustor = SleepIntervalAdjustor(0.1, offset=0.02)
        adjustor.reset()
        periods = [adjustor.adjust() for _ in range(3)]
        assert periods == [pytest.approx(0.08)] * 3

    def test_overruns_are_not_caught_up(self, clock: FakeClock) -> None:
        adjustor = SleepIntervalAdjustor(0.1)
        adjustor.reset()
        clock.now += 0.25
        assert adjustor.adjust() == pytest.approx(0.25)
        assert clock.sleeps == []
        assert adjustor.adjust() == pytest.approx(0.1)  # a full period, from now

    def test_does_not_sleep_without_a_reset(self, clock: FakeClock) -> None:
        SleepIntervalAdjustor(0.1).adjust()
        assert clock.sleeps == []


class TestFinishingWithASpin:
    def test_sleeps_to_the_margin_then_spins_to_the_deadline(
        self, clock: FakeClock
    ) -> None:
        clock.tick = 1e-5
        adjustor = SleepIntervalAdjustor(0.01)
        adjustor.reset()
        delta = adjustor.adjust()
        assert clock.sleeps == [pytest.approx(0.01 - adjustor.spin_margin, abs=1e-4)]
        assert 0.01 <= delta < 0.01 + 1e-4
        assert clock.reads > 10  # it spun instead of sleeping the last stretch

    def test_margin_is_real_time_so_it_scales_with_the_time_scale(
        self, clock: FakeClock
    ) -> None:
        clock.scale = 4.0
        adjustor = SleepIntervalAdjustor(0.01)
        adjustor.reset()
        clock.tick = 1e-4
        adjustor.adjust()
        assert clock.sleeps == [
            pytest.approx(0.01 - 4.0 * adjustor.spin_margin, abs=2e-4)
        ]

    def test_no_spin_when_the_deadline_is_closer_than_the_margin_and_passed(
        self, clock: FakeClock
    ) -> None:
        adjustor = SleepIntervalAdjustor(0.0001)
        adjustor.reset()
        clock.now += 0.0002
        adjustor.adjust()
        assert clock.sleeps == []

    def test_never_spins_while_paused(self, clock: FakeClock) -> None:
        adjustor = SleepIntervalAdjustor(0.0001)  # inside the spin margin
        adjustor.reset()
        clock.paused = True
        clock.tick = 1e-6
        adjustor.adjust()
        # One read saw the frozen clock; then it slept (that is, waited out the
        # pause) instead of spinning, and spun to the deadline once resumed.
        assert clock.reads_while_paused == 1
        assert clock.sleeps == [0.0]

    def test_a_frozen_clock_ends_the_spin_with_a_sleep(self, clock: FakeClock) -> None:
        adjustor = SleepIntervalAdjustor(0.0001)  # clock.tick == 0: frozen
        adjustor.reset()
        started = std_time.perf_counter()
        adjustor.adjust()
        # Given up after about a millisecond of real time; the bound is wide for a
        # loaded machine and still catches a spin that waits for the frozen clock.
        assert std_time.perf_counter() - started < 1.0
        assert clock.sleeps == [pytest.approx(0.0001)]


@pytest.fixture
def private_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[TimeController]:
    """Real pamiq time from a controller of the test's own, not the global one."""
    controller = TimeController()
    for name in ("perf_counter", "sleep", "is_paused", "get_time_scale"):
        monkeypatch.setattr(time, name, getattr(controller, name))
    yield controller
    controller.resume()


class TestRealTime:
    """The adjustor on the real clocks.

    Only what a loaded machine cannot break is asserted: a stalled thread makes a
    period longer, never shorter, so upper bounds are loose. How close periods come
    to the interval is measured, not asserted, by ``benchmarks/interval.py``.
    """

    @pytest.mark.parametrize(("interval", "trials"), [(0.01, 50), (0.05, 10)])
    def test_no_period_is_short_and_the_fastest_is_close_to_the_interval(
        self, interval: float, trials: int
    ) -> None:
        adjustor = SleepIntervalAdjustor(interval)
        adjustor.reset()
        periods = [adjustor.adjust() for _ in range(trials)]
        assert min(periods) >= interval
        assert min(periods) < 1.5 * interval, sorted(periods)

    def test_waits_out_a_pause_without_spinning(
        self, private_time: TimeController
    ) -> None:
        adjustor = SleepIntervalAdjustor(0.05)
        started_real = std_time.perf_counter()
        adjustor.reset()
        private_time.pause()
        # The pause lasts at least 0.3 s of real time: the span whose cost is checked.
        resumer = threading.Timer(0.3, private_time.resume)
        resumer.start()
        started_cpu = std_time.thread_time()
        delta = adjustor.adjust()
        resumer.join()
        real = std_time.perf_counter() - started_real
        cpu = std_time.thread_time() - started_cpu
        assert delta >= 0.05
        assert real - delta >= 0.3 - 1e-6  # the pause is left out of the period
        assert cpu < 0.1

    def test_time_scale_shortens_the_real_period(
        self, private_time: TimeController
    ) -> None:
        private_time.set_time_scale(10.0)
        adjustor = SleepIntervalAdjustor(0.5)
        started = std_time.perf_counter()
        adjustor.reset()
        delta = adjustor.adjust()
        real = std_time.perf_counter() - started
        assert real < 0.5  # unscaled, the period would last 0.5 real seconds
        assert 0.5 <= delta <= 10.0 * real + 1e-6  # pamiq time ran 10 times as fast
