"""Run callbacks every so many seconds of pamiq time, or every so many steps."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

from pamiq_core import time

Callback = Callable[[], None]
CallbackIterable = Iterable[Callback]


class Scheduler(ABC):
    """Calls its callbacks, in registration order, whenever it is available."""

    def __init__(self, callbacks: Callback | CallbackIterable | None = None) -> None:
        """Start with the given callback, iterable of callbacks, or none."""
        if callbacks is None:
            self._callbacks: list[Callback] = []
        elif callable(callbacks):
            self._callbacks = [callbacks]
        else:
            self._callbacks = list(callbacks)

    def register_callback(self, callback: Callback) -> None:
        """Add ``callback`` after the existing ones."""
        self._callbacks.append(callback)

    def remove_callback(self, callback: Callback) -> None:
        """Remove the first registration of ``callback``.

        Raises:
            ValueError: If ``callback`` is not registered.
        """
        try:
            self._callbacks.remove(callback)
        except ValueError:
            raise ValueError(f"Callback {callback!r} is not registered.") from None

    @abstractmethod
    def is_available(self) -> bool:
        """Whether the callbacks are due now."""

    @abstractmethod
    def update(self) -> None:
        """Call every callback if the scheduler is available.

        Subclasses extend this and call ``super().update()``.
        """
        if self.is_available():
            for callback in self._callbacks:
                callback()


class TimeIntervalScheduler(Scheduler):
    """Fires when more than ``interval`` seconds of pamiq time have passed.

    Pamiq time stands still while the system is paused and runs faster with a larger
    time scale, and so does this scheduler. It fires at most once per ``update``.
    If pamiq time goes back (a saved clock was loaded), the interval restarts from
    the new time instead of waiting for the clock to catch up.
    """

    def __init__(
        self, interval: float, callbacks: Callback | CallbackIterable | None = None
    ) -> None:
        """Fire every ``interval`` seconds, counted from construction.

        Raises:
            ValueError: If ``interval`` is negative.
        """
        super().__init__(callbacks)
        if interval < 0:
            raise ValueError(f"Interval must be non-negative, got {interval}.")
        self._interval = interval
        self._previous_run_time = time.time()

    def restart(self) -> None:
        """Count the interval from now."""
        self._previous_run_time = time.time()

    def is_available(self) -> bool:
        """Whether more than ``interval`` seconds passed since the last firing."""
        return time.time() - self._previous_run_time > self._interval

    def update(self) -> None:
        """Fire if due, then restart the interval from now."""
        if time.time() < self._previous_run_time:
            self.restart()  # the clock went back: count from the new time
        super().update()
        if self.is_available():
            self._previous_run_time = time.time()


class StepIntervalScheduler(Scheduler):
    """Fires on every ``interval``-th call of ``update``."""

    def __init__(
        self, interval: int, callbacks: Callback | CallbackIterable | None = None
    ) -> None:
        """Fire every ``interval`` updates.

        Raises:
            ValueError: If ``interval`` is not positive.
        """
        super().__init__(callbacks)
        if interval <= 0:
            raise ValueError(f"Interval must be positive, got {interval}.")
        self._interval = interval
        self._steps_since_last_call = 0

    def is_available(self) -> bool:
        """Whether ``interval`` updates have happened since the last firing."""
        return self._steps_since_last_call >= self._interval

    def update(self) -> None:
        """Count one step and fire if due."""
        self._steps_since_last_call += 1
        super().update()
        if self.is_available():
            self._steps_since_last_call = 0
