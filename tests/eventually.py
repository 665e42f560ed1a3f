"""The one way tests wait for something another thread or process does.

``eventually(condition)`` polls ``condition`` until it is true and fails the test with
a message that says what never happened. Use it only where no event can be waited on
(another process, a server socket, a file appearing); where the code under test offers
an event, wait on the event instead. Never sleep a fixed time to "let things settle".
"""

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
