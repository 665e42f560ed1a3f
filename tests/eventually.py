"""How tests wait for what another thread or process does. Never a fixed sleep.

Wait on an event where the thing waited for can set one: ``threading.Event`` s and
hooks of the code under test (``ThreadStatus.wait_for_pause``), or a :class:`Count`
that a test double in another thread increases. Where no event can be had (another
process, a server socket, a file appearing), :func:`eventually` polls a condition.
Both fail the test with a message that says what never happened.
"""

import threading
import time
from collections.abc import Callable

DEFAULT_TIMEOUT = 20.0
"""Generous on purpose: a loaded 2-core CI machine can stall a thread for seconds."""

POLL_INTERVAL = 0.002


def eventually(
    condition: Callable[[], object],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    what: str | None = None,
) -> None:
    """Return as soon as ``condition()`` is truthy; fail after ``timeout`` seconds.

    Args:
        condition: Checked at once, then every couple of milliseconds.
        timeout: Real seconds to wait before failing.
        what: Says what was awaited, for the failure message (default: the
            condition's name).

    Raises:
        AssertionError: If the condition stayed false for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            described = what or getattr(condition, "__name__", repr(condition))
            raise AssertionError(f"timed out after {timeout} s waiting for {described}")
        time.sleep(POLL_INTERVAL)


class Count:
    """A number that a test double increases in one thread and a test waits on.

    ``steps.add()`` in the double; ``steps.wait_for(5)`` in the test wakes as soon as
    the fifth step is counted (an event, not a poll).
    """

    def __init__(self, what: str) -> None:
        """Start at 0; ``what`` names what is counted, for failure messages."""
        self._what = what
        self._value = 0
        self._changed = threading.Condition()

    @property
    def value(self) -> int:
        """How many have been counted so far."""
        return self._value

    def add(self) -> None:
        """Count one more, waking the tests that wait for it."""
        with self._changed:
            self._value += 1
            self._changed.notify_all()

    def wait_for(self, at_least: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once at least ``at_least`` have been counted.

        Raises:
            AssertionError: If fewer were counted within ``timeout`` real seconds.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self._value >= at_least, timeout):
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {at_least} {self._what}; "
                    f"counted {self._value}"
                )

    def stays_at(self, value: int, window: float) -> bool:
        """Whether the count is still ``value`` after ``window`` real seconds.

        For checks that something does *not* happen: it returns False as soon as it
        does, so a failing check ends early and a passing one never waits on luck.
        """
        with self._changed:
            return not self._changed.wait_for(lambda: self._value != value, window)
