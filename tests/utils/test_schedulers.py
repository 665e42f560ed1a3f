from collections.abc import Iterator
from unittest import mock

import pytest

from pamiq_core.utils.schedulers import (
    Scheduler,
    StepIntervalScheduler,
    TimeIntervalScheduler,
)


class Clock:
    """A stand-in for pamiq time that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    with mock.patch("pamiq_core.time.time", fake):
        yield fake


class Calls:
    def __init__(self) -> None:
        self.log: list[str] = []

    def callback(self, name: str) -> "mock.Mock":
        return mock.Mock(side_effect=lambda: self.log.append(name))


class TestScheduler:
    def test_abstract_methods(self) -> None:
        assert Scheduler.__abstractmethods__ == frozenset({"is_available", "update"})

    def test_accepts_one_callback_an_iterable_or_none(self) -> None:
        def callback() -> None:
            pass

        assert StepIntervalScheduler(1)._callbacks == []
        assert StepIntervalScheduler(1, callback)._callbacks == [callback]
        assert StepIntervalScheduler(1, (callback, callback))._callbacks == [
            callback,
            callback,
        ]

    def test_register_and_remove_callbacks(self) -> None:
        calls = Calls()
        first, second = calls.callback("first"), calls.callback("second")
        scheduler = StepIntervalScheduler(1, first)
        scheduler.register_callback(second)
        scheduler.update()
        scheduler.remove_callback(first)
        scheduler.update()
        assert calls.log == ["first", "second", "second"]

    def test_removing_an_unknown_callback_raises(self) -> None:
        with pytest.raises(ValueError, match="not registered"):
            StepIntervalScheduler(1).remove_callback(lambda: None)


@pytest.mark.usefixtures("clock")
class TestTimeIntervalScheduler:
    def test_negative_interval_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="Interval must be non-negative"):
            TimeIntervalScheduler(-1.0)

    def test_fires_only_after_more_than_the_interval(self, clock: Clock) -> None:
        callback = mock.Mock()
        scheduler = TimeIntervalScheduler(10.0, callback)
        scheduler.update()
        clock.now += 10.0  # exactly the interval: not yet
        scheduler.update()
        assert callback.call_count == 0
        clock.now += 0.5
        scheduler.update()
        assert callback.call_count == 1

    def test_restarts_the_interval_after_firing(self, clock: Clock) -> None:
        callback = mock.Mock()
        scheduler = TimeIntervalScheduler(10.0, callback)
        clock.now += 25.0  # no catch-up: one firing per update
        scheduler.update()
        scheduler.update()
        assert callback.call_count == 1
        clock.now += 10.5
        scheduler.update()
        assert callback.call_count == 2

    def test_zero_interval_fires_whenever_time_moved(self, clock: Clock) -> None:
        callback = mock.Mock()
        scheduler = TimeIntervalScheduler(0.0, callback)
        scheduler.update()
        assert callback.call_count == 0
        clock.now += 0.001
        scheduler.update()
        assert callback.call_count == 1


class TestStepIntervalScheduler:
    @pytest.mark.parametrize("interval", [0, -3])
    def test_non_positive_interval_is_rejected(self, interval: int) -> None:
        with pytest.raises(ValueError, match="Interval must be positive"):
            StepIntervalScheduler(interval)

    def test_fires_on_every_nth_update(self) -> None:
        callback = mock.Mock()
        scheduler = StepIntervalScheduler(3, callback)
        fired = []
        for _ in range(9):
            scheduler.update()
            fired.append(callback.call_count)
        assert fired == [0, 0, 1, 1, 1, 2, 2, 2, 3]
