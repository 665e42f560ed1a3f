"""The state of the whole system, as seen from outside it."""

from enum import Enum, auto

from pamiq_core.thread import ReadOnlyController, ThreadStatusesMonitor


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


class SystemStatusProvider:
    """Derives the system status from the controller and the thread statuses.

    It only reads events, so any thread (the web server's, for one) may call it.
    """

    def __init__(
        self,
        controller: ReadOnlyController,
        thread_statuses_monitor: ThreadStatusesMonitor,
    ) -> None:
        """Read ``controller`` and ``thread_statuses_monitor``."""
        self._controller = controller
        self._monitor = thread_statuses_monitor

    def get_current_status(self) -> SystemStatus:
        """The current status (never ``OFFLINE``).

        Shut down wins; a pause request is ``PAUSED`` once every background thread
        reports paused and ``PAUSING`` before; after a resume, ``RESUMING`` while any
        thread still reports paused; otherwise ``ACTIVE``.
        """
        if self._controller.is_shutdown():
            return SystemStatus.SHUTTING_DOWN
        if self._controller.is_pause():
            if self._monitor.check_all_threads_paused():
                return SystemStatus.PAUSED
            return SystemStatus.PAUSING
        if self._monitor.check_any_threads_paused():
            return SystemStatus.RESUMING
        return SystemStatus.ACTIVE
