"""Signals between the control thread and the background threads.

Commands flow one way, from the control thread to the background threads, through a
:class:`ThreadController` (written only by the control thread). Reports flow the other
way, through one :class:`ThreadStatus` per background thread (written only by that
thread). Both are built on :class:`threading.Event`, so readers in other threads need
no further locking.

Pauses are numbered. Each :meth:`ThreadController.pause` starts a new pause request, and
a thread acknowledges the request it saw when it reports paused. The control thread
waits for every thread to acknowledge *this* request, so a "paused" flag left over from
an earlier pause, set by a thread that has not yet woken from it, never passes for a
new acknowledgement (that mistake let a snapshot be written while a step ran).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from .thread_types import ThreadTypes

OnPausedCallback = Callable[[], None]
OnResumedCallback = Callable[[], None]


class ThreadEventMixin:
    """Hooks called when the system pauses and resumes (no-ops by default).

    Background threads call ``on_paused`` after they stop stepping and ``on_resumed``
    before they step again, in the thread that owns the object.
    """

    def on_paused(self) -> None:
        """React to the system pausing."""

    def on_resumed(self) -> None:
        """React to the system resuming."""


class ThreadController:
    """The command side: resume/pause and active/shutdown.

    Only the control thread may call the mutators; any thread may read.
    """

    def __init__(self) -> None:
        """Start resumed and active."""
        self._resume_event = threading.Event()
        self._shutdown_event = threading.Event()
        self._command_event = threading.Event()  # set while paused or shut down
        self._pause_request = 0
        self._resume_event.set()

    @property
    def read_only(self) -> "ReadOnlyController":
        """A view of this controller without mutators."""
        return ReadOnlyController(self)

    def resume(self) -> None:
        """Let background threads run.

        Raises:
            RuntimeError: If the controller has been shut down.
        """
        if self.is_shutdown():
            raise RuntimeError("ThreadController must be activated before resume().")
        self._command_event.clear()
        self._resume_event.set()

    def pause(self) -> None:
        """Ask background threads to pause after their current step.

        Raises:
            RuntimeError: If the controller has been shut down.
        """
        if self.is_shutdown():
            raise RuntimeError("ThreadController must be activated before pause().")
        self._pause_request += 1  # published before the event: readers see it first
        self._resume_event.clear()
        self._command_event.set()

    def pause_request(self) -> int:
        """The number of the latest pause request (0 before the first pause).

        A background thread reports it with its paused status, so the control thread
        can tell an acknowledgement of this pause from one of an earlier pause.
        """
        return self._pause_request

    def is_resume(self) -> bool:
        """Whether threads may run."""
        return self._resume_event.is_set()

    def is_pause(self) -> bool:
        """Whether threads are asked to pause."""
        return not self._resume_event.is_set()

    def shutdown(self) -> None:
        """Ask threads to stop; releases threads blocked in a pause first."""
        if self.is_shutdown():
            return
        self._resume_event.set()
        self._shutdown_event.set()
        self._command_event.set()

    def activate(self) -> None:
        """Undo a shutdown."""
        self._shutdown_event.clear()
        if self.is_resume():
            self._command_event.clear()

    def is_shutdown(self) -> bool:
        """Whether shutdown has been requested."""
        return self._shutdown_event.is_set()

    def is_active(self) -> bool:
        """Whether threads should keep running."""
        return not self._shutdown_event.is_set()

    def wait_for_resume(self, timeout: float) -> bool:
        """Block until resumed (or shut down) or ``timeout`` seconds pass.

        Returns:
            True if the controller is resumed.
        """
        return self._resume_event.wait(timeout)

    def wait_for_shutdown(self, timeout: float) -> bool:
        """Block until shutdown is requested or ``timeout`` seconds pass.

        Returns:
            True if shutdown has been requested.
        """
        return self._shutdown_event.wait(timeout)

    def wait_for_command(self, timeout: float) -> bool:
        """Block until a pause or a shutdown is requested, or ``timeout`` passes.

        Idle threads wait here instead of sleeping, so they react at once.

        Returns:
            True if a pause or shutdown is pending.
        """
        return self._command_event.wait(timeout)


class ReadOnlyController:
    """The read side of a :class:`ThreadController`, handed to background threads."""

    def __init__(self, controller: ThreadController) -> None:
        """Expose ``controller``'s query methods."""
        self.is_resume = controller.is_resume
        self.is_pause = controller.is_pause
        self.is_shutdown = controller.is_shutdown
        self.is_active = controller.is_active
        self.wait_for_resume = controller.wait_for_resume
        self.wait_for_shutdown = controller.wait_for_shutdown
        self.wait_for_command = controller.wait_for_command
        self.pause_request = controller.pause_request


class ControllerCommandHandler:
    """Applies the controller's commands inside a background thread's loop.

    ``while handler.manage_loop(): step()`` blocks while paused (calling
    ``on_paused`` once before waiting and ``on_resumed`` once after, unless the wait
    ended in a shutdown) and ends the loop after a shutdown.
    """

    def __init__(
        self,
        controller: ReadOnlyController,
        on_paused_callback: OnPausedCallback = lambda: None,
        on_resumed_callback: OnResumedCallback = lambda: None,
    ) -> None:
        """Follow ``controller``, calling the callbacks around each pause."""
        self._controller = controller
        self.on_paused = on_paused_callback
        self.on_resumed = on_resumed_callback

    def stop_if_pause(self) -> None:
        """Block while the controller is paused.

        A pause ended by shutdown does not call ``on_resumed``: the thread goes
        straight to its teardown (0.6 fired the resume hooks on the way out).
        """
        if self._controller.is_resume():
            return
        self.on_paused()
        while not self._controller.wait_for_resume(1.0):
            pass
        if self._controller.is_active():
            self.on_resumed()

    def manage_loop(self) -> bool:
        """Wait out a pause, then say whether the loop should go on."""
        self.stop_if_pause()
        return self._controller.is_active()


class ThreadStatus:
    """The report side: whether a background thread is paused or has failed.

    Only the thread it describes writes it.
    """

    def __init__(self) -> None:
        """Start running, with no exception."""
        self._paused_event = threading.Event()
        self._exception_event = threading.Event()
        self._acknowledged_request: int | None = None

    @property
    def read_only(self) -> "ReadOnlyThreadStatus":
        """A view of this status without mutators."""
        return ReadOnlyThreadStatus(self)

    def pause(self, request: int | None = None) -> None:
        """Report that the thread is paused.

        Args:
            request: The pause request this acknowledges
                (:meth:`ThreadController.pause_request`); None acknowledges none in
                particular, for code that does not number its pauses.
        """
        self._acknowledged_request = request
        self._paused_event.set()

    def resume(self) -> None:
        """Report that the thread runs again."""
        self._paused_event.clear()
        self._acknowledged_request = None

    def is_paused_for(self, request: int) -> bool:
        """Whether the thread reports paused for pause request ``request``."""
        return self._paused_event.is_set() and self._acknowledged_request == request

    def is_pause(self) -> bool:
        """Whether the thread reports being paused."""
        return self._paused_event.is_set()

    def is_resume(self) -> bool:
        """Whether the thread reports running."""
        return not self._paused_event.is_set()

    def exception_raised(self) -> None:
        """Report that the thread died of an exception (never cleared)."""
        self._exception_event.set()

    def is_exception_raised(self) -> bool:
        """Whether the thread died of an exception."""
        return self._exception_event.is_set()

    def wait_for_pause(self, timeout: float) -> bool:
        """Block until the thread reports paused or ``timeout`` seconds pass."""
        return self._paused_event.wait(timeout)


class ReadOnlyThreadStatus:
    """The read side of a :class:`ThreadStatus`, handed to the control thread."""

    def __init__(self, status: ThreadStatus) -> None:
        """Expose ``status``'s query methods."""
        self.is_pause = status.is_pause
        self.is_resume = status.is_resume
        self.wait_for_pause = status.wait_for_pause
        self.is_exception_raised = status.is_exception_raised
        self.is_paused_for = status.is_paused_for


class ThreadStatusesMonitor:
    """Watches the statuses of all background threads for the control thread."""

    def __init__(
        self, statuses: Mapping[ThreadTypes | str, ReadOnlyThreadStatus]
    ) -> None:
        """Watch ``statuses``, keyed by thread type or by thread name.

        Names let several threads of one type be told apart, such as one proxy
        per training process.
        """
        self._statuses = dict(statuses)
        self._logger = logging.getLogger(f"{__name__}.{type(self).__name__}")

    def wait_for_all_threads_pause(
        self,
        timeout: float,
        request: int | None = None,
        *,
        between_waits: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait, at most ``timeout`` seconds in total, until every thread is paused.

        Gives up early if a thread has died of an exception, since it will never
        report paused. Logs an error naming each thread that did not pause.

        Args:
            timeout: Seconds to wait in total.
            request: The pause request each thread must acknowledge
                (:meth:`ThreadController.pause_request`); None accepts any paused
                report, as PAMIQ-Core 0.6 did.
            between_waits: Called every few milliseconds while waiting (the control
                thread answers commands there); returning False gives up at once,
                without logging.
        """
        deadline = time.monotonic() + timeout
        pending = dict(self._statuses)
        while pending:
            for thread_type, status in list(pending.items()):
                if _is_paused(status, request):
                    del pending[thread_type]
            dead = [t for t, s in pending.items() if s.is_exception_raised()]
            remaining = deadline - time.monotonic()
            if not pending or dead or remaining <= 0:
                break
            if between_waits is not None and not between_waits():
                return False
            _wait_for_any_report(pending.values(), min(remaining, 0.005))
        for thread_type, status in pending.items():
            if status.is_exception_raised():
                self._logger.error(
                    f"The '{_name(thread_type)}' thread cannot pause: it died of "
                    "an exception."
                )
            else:
                self._logger.error(
                    f"Timeout waiting for '{_name(thread_type)}' thread to pause "
                    f"after {timeout} seconds."
                )
        return not pending

    def check_exception_raised(self) -> bool:
        """Log and report whether any thread died of an exception."""
        raised = False
        for thread_type, status in self._statuses.items():
            if status.is_exception_raised():
                self._logger.error(
                    f"An exception has occurred in the '{_name(thread_type)}' thread."
                )
                raised = True
        return raised

    def check_all_threads_paused(self, request: int | None = None) -> bool:
        """Whether every thread reports paused (True when there are none).

        With ``request``, only acknowledgements of that pause request count.
        """
        return all(_is_paused(s, request) for s in self._statuses.values())

    def check_any_threads_paused(self) -> bool:
        """Whether any thread reports paused."""
        return any(status.is_pause() for status in self._statuses.values())


def _is_paused(status: ReadOnlyThreadStatus, request: int | None) -> bool:
    if request is None:
        return status.is_pause()
    return status.is_paused_for(request)


def _wait_for_any_report(
    pending: Iterable[ReadOnlyThreadStatus], timeout: float
) -> None:
    """Wait until a pending thread may have acknowledged, or ``timeout`` passes.

    A thread whose flag is still set from an earlier pause is waking up and will
    clear it before acknowledging again; waiting on its set flag would return at
    once and spin, so wait on a thread whose flag is clear, else briefly.
    """
    for status in pending:
        if not status.is_pause():
            status.wait_for_pause(timeout)
            return
    time.sleep(min(timeout, 0.0005))


def _name(key: ThreadTypes | str) -> str:
    return key if isinstance(key, str) else key.thread_name
