"""Keep a loop to a fixed period of pamiq time.

An adjustor measures each period from a reference point: :meth:`~IntervalAdjustor.reset`
sets it to "now", and :meth:`~IntervalAdjustor.adjust`, called at the end of each
step, blocks until the period is due and then moves the reference point to "now".
Time is pamiq time: paused spans do not count, and a larger time scale makes the
periods shorter in real time.
"""

import math
import time as _std_time
from abc import ABC, abstractmethod
from typing import ClassVar

from pamiq_core import time
from pamiq_core.utils.init_check import InitChecked


class IntervalAdjustor(ABC, InitChecked):
    """Blocks until ``interval - offset`` pamiq seconds have passed since the last reset.

    The offset is subtracted from *every* period, not only the first (as in
    PAMIQ-Core 0.6): it shortens the wait to leave room for a fixed per-step cost
    the adjustor cannot see, such as work done after :meth:`adjust` returns. With
    ``interval=0.1, offset=0.01`` each wait ends 0.09 pamiq seconds after the
    previous reference point.

    Overruns are not compensated: when a step takes longer than the wait, the next
    period starts from when it ended, without catching up.
    """

    _last_reset_time: float = -math.inf
    _init_marker: ClassVar[str | None] = "_time_to_wait"

    def __init__(self, interval: float, offset: float = 0.0) -> None:
        """Pace a loop.

        Args:
            interval: The period, in pamiq seconds. Zero means no pacing.
            offset: Subtracted from every period's wait, in pamiq seconds.

        Raises:
            ValueError: If ``interval`` is negative or not finite, ``offset`` is
                not finite, or ``offset`` exceeds ``interval`` (a negative wait).
        """
        name = type(self).__name__
        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(
                f"{name}: interval is the period in pamiq seconds and must be a "
                f"finite number >= 0 (0: no pacing); got interval={interval!r}."
            )
        if not math.isfinite(offset):
            raise ValueError(f"{name}: offset must be finite; got offset={offset!r}.")
        if offset > interval:
            raise ValueError(
                f"{name}: offset ({offset!r}) exceeds interval ({interval!r}), which "
                "would make every wait negative. The offset shortens each wait; it "
                "must be at most the interval."
            )
        self._interval = interval
        self._offset = offset
        self._time_to_wait = interval - offset

    def reset(self) -> float:
        """Start a period now; return the new reference point (pamiq ``perf_counter``)."""
        self._last_reset_time = time.perf_counter()
        return self._last_reset_time

    @abstractmethod
    def adjust_impl(self) -> None:
        """Block until the current period is due."""

    def adjust(self) -> float:
        """Wait for the period to end, then start the next one.

        Returns:
            Pamiq seconds since the previous reset or adjust; ``inf`` if the adjustor
            was never reset.
        """
        self.adjust_impl()
        delta = time.perf_counter() - self._last_reset_time
        self.reset()
        return delta


class SleepIntervalAdjustor(IntervalAdjustor):
    """Sleeps most of the way, then spins for the last fraction of a millisecond.

    A plain sleep wakes up late by a varying amount (the OS timer slack, scheduling),
    typically 0.05-0.3 ms and occasionally more. So the adjustor sleeps with pamiq
    :func:`pamiq_core.time.sleep` until :attr:`spin_margin` real seconds before the
    deadline, then checks pamiq ``perf_counter`` in a tight loop until the deadline.

    The loop never releases the GIL on its own, so other Python threads cannot
    delay the end of the period once the spin has begun. Waking up from the sleep,
    however, needs the GIL: while another thread runs Python code, that can take up
    to one GIL switch interval (:func:`sys.getswitchinterval`, 5 ms by default).
    Lower it where steady periods matter more than that thread's throughput.

    It never spins while the system is paused (pamiq time is then frozen): it
    sleeps instead, and pamiq ``sleep`` waits out the pause. Each spin also stops
    after at most :attr:`spin_margin` real seconds plus a little, whatever the clocks
    say, and then falls back to sleeping. In virtual time (lock-step mode) it makes
    one pamiq sleep to the deadline, which moves the clocks without waiting.

    The price is up to :attr:`spin_margin` of CPU time per period: 5 % of a core at
    100 Hz with the default, 50 % at 1 kHz. Set the class attribute (or an
    instance attribute) to ``0.0`` to sleep only.
    """

    spin_margin: float = 0.0005
    """Real seconds before the deadline at which sleeping gives way to spinning."""

    _SPIN_SLACK = 0.0005
    """Extra real seconds a spin may last before it is abandoned for a sleep."""

    def adjust_impl(self) -> None:
        """Block until ``interval - offset`` pamiq seconds have passed since the reset.

        Does nothing if the adjustor was never reset.
        """
        deadline = self._last_reset_time + self._time_to_wait
        if time.is_virtual():
            # A virtual sleep moves the clocks at once and costs no real time:
            # there is no wake-up delay to spin away (lock-step mode).
            remaining = deadline - time.perf_counter()
            if remaining > 0:
                time.sleep(remaining)
            return
        spin_until: float | None = None  # real-time bound of the current spin
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            margin = self.spin_margin * time.get_time_scale()
            if remaining > margin or time.is_paused():
                # While paused, pamiq sleep returns only after the system resumes.
                time.sleep(max(remaining - margin, 0.0))
                spin_until = None
                continue
            now = _std_time.perf_counter()
            if spin_until is None:
                spin_until = now + self.spin_margin + self._SPIN_SLACK
            elif now > spin_until:  # pamiq time is not advancing as it should
                time.sleep(remaining)
                return
