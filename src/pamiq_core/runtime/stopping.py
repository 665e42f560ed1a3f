"""Stopping a running system: signals, the shutdown deadline, and its errors."""

import logging
import os
import signal
import threading
import time as std_time
from collections.abc import Callable, Generator, Iterable
from contextlib import contextmanager
from types import FrameType

from pamiq_core.thread.threads import BackgroundThread
from pamiq_core.utils.errors import combine_errors as _combine

logger = logging.getLogger("pamiq_core.launcher")


class ShutdownTimeoutError(RuntimeError):
    """A thread did not stop within ``LaunchConfig.shutdown_timeout`` of a shutdown.

    The final snapshot left out the parts that thread uses. The thread is left
    running in the background (it is a daemon thread: it does not keep the process
    alive).
    """


ShutdownTimeoutError.__module__ = "pamiq_core.launcher"


@contextmanager
def shutdown_on_sigterm(shutdown: Callable[[], None]) -> Generator[None]:
    """While the block runs, make SIGTERM call ``shutdown`` (a clean shutdown)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def shut_down(signum: int, frame: FrameType | None) -> None:
        logger.info("SIGTERM received: shutting down with a final save.")
        shutdown()

    previous = signal.signal(signal.SIGTERM, shut_down)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def exit_on_second_signal() -> Generator[None]:
    """While shutting down, make Ctrl-C or SIGTERM end the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_now(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        logger.warning(f"{name} while shutting down: exiting now without a final save.")
        os._exit(128 + signum)

    previous = {
        signum: signal.signal(signum, exit_now)
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def join_until(
    threads: Iterable[BackgroundThread], timeout: float
) -> list[BackgroundThread]:
    """Wait until every thread ended or ``timeout`` real seconds passed.

    Returns:
        The threads still running at the deadline.
    """
    deadline = std_time.monotonic() + timeout
    threads = list(threads)
    for thread in threads:
        while thread.is_alive():
            remaining = deadline - std_time.monotonic()
            if remaining <= 0:
                break
            thread.join(timeout=min(remaining, 10.0))
            if thread.is_alive() and remaining > 10.0:
                logger.info(
                    f"Waiting for the {thread.thread_name} thread to finish its "
                    f"current step, at most {deadline - std_time.monotonic():.0f} s "
                    "more (press Ctrl-C again to exit at once)..."
                )
    return [thread for thread in threads if thread.is_alive()]


def timeout_error(
    thread: BackgroundThread, timeout: float, parts: Iterable[str]
) -> ShutdownTimeoutError:
    """The error for ``thread`` not stopping in time; logs where it is stuck."""
    doing = thread.describe_activity()
    logger.error(
        f"The {thread.thread_name} thread did not stop within {timeout} s of the "
        f"shutdown; it was {doing}. Its stack:\n{thread.stack()}"
    )
    return ShutdownTimeoutError(
        f"The {thread.thread_name} thread did not stop within {timeout} s of the "
        f"shutdown (shutdown_timeout); it was {doing}. The final snapshot left out "
        f"the parts it uses, {list(parts)}."
    )


def combine_errors(errors: list[BaseException]) -> BaseException:
    """One error for the failures that stopped the system (see ``utils.errors``)."""
    return _combine(errors, "threads")
