"""The state of the whole system, as seen from outside it.

The console sits below the threads (the control thread imports its server), so it
knows the controller and the thread statuses only by the few methods it calls.
"""

from enum import Enum, auto
from typing import Protocol


class SystemStatus(Enum):
    """What the running system is doing.

    ``OFFLINE`` is never reported by a running system; a client uses it when it
    cannot reach one.
    """

    ACTIVE = auto()
    PAUSING = auto()
    PAUSED = auto()
    RESUMING = auto()
    SHUTTING_DOWN = auto()
    OFFLINE = auto()

    @property
    def status_name(self) -> str:
        """The name shown to people, such as ``"shutting down"``."""
        return self.name.lower().replace("_", " ")


class ControllerView(Protocol):
    """What the provider reads of the controller (``ReadOnlyController`` has it)."""

    def is_shutdown(self) -> bool:
        """Whether a shutdown was requested."""
        ...

    def is_pause(self) -> bool:
        """Whether a pause was requested."""
        ...

    def pause_request(self) -> int:
        """The number of the latest pause request."""
        ...


class ThreadStatusesView(Protocol):
    """What the provider reads of the threads (``ThreadStatusesMonitor`` has it)."""

    def check_all_threads_paused(self, request: int | None = None) -> bool:
        """Whether every background thread reports paused (for ``request``)."""
        ...

    def check_any_threads_paused(self) -> bool:
        """Whether any background thread reports paused."""
        ...


class StatusSource(Protocol):
    """Anything that tells the current status (a :class:`SystemStatusProvider`)."""

    def get_current_status(self) -> SystemStatus:
        """The current status."""
        ...


class SystemStatusProvider:
    """Derives the system status from the controller and the thread statuses.

    It only reads events, so any thread (the web server's, for one) may call it.
    """

    def __init__(
        self,
        controller: ControllerView,
        thread_statuses_monitor: ThreadStatusesView,
    ) -> None:
        """Read ``controller`` and ``thread_statuses_monitor``."""
        self._controller = controller
        self._monitor = thread_statuses_monitor

    def get_current_status(self) -> SystemStatus:
        """The current status (never ``OFFLINE``).

        Shut down wins; a pause request is ``PAUSED`` once every background thread
        acknowledged that very request and ``PAUSING`` before (an acknowledgement
        of an earlier pause, not yet cleared, does not count); after a resume, ``RESUMING`` while any
        thread still reports paused; otherwise ``ACTIVE``.
        """
        if self._controller.is_shutdown():
            return SystemStatus.SHUTTING_DOWN
        if self._controller.is_pause():
            request = self._controller.pause_request()
            if self._monitor.check_all_threads_paused(request):
                return SystemStatus.PAUSED
            return SystemStatus.PAUSING
        if self._monitor.check_any_threads_paused():
            return SystemStatus.RESUMING
        return SystemStatus.ACTIVE
