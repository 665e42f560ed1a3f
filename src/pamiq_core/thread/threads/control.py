"""The control thread: pause, resume, save, shutdown, and watching the others."""

import math
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from typing_extensions import override

from pamiq_core import time
from pamiq_core.console.system_status import SystemStatus, SystemStatusProvider
from pamiq_core.console.web_api import ControlCommands, WebApiServer, resolve_token
from pamiq_core.metrics import SystemStats
from pamiq_core.state_persistence import StatesKeeper, StateStore

from ..thread_control import (
    ReadOnlyController,
    ReadOnlyThreadStatus,
    ThreadController,
    ThreadStatusesMonitor,
)
from ..thread_types import ThreadTypes
from .base import Thread


class ControlThread(Thread):
    """Runs in the caller's thread and steers the background threads.

    Each tick it saves state when the save condition says so, lets the states
    keeper clean up, handles commands received over the web API, and shuts the
    system down when a background thread has died or ``max_uptime`` seconds of
    pamiq time have passed.
    Between ticks it waits on an event (at most ``TICK_INTERVAL`` seconds), so an
    idle system uses almost no CPU and a command is handled as soon as it arrives.

    It owns the :class:`ThreadController`; no other thread changes it.
    """

    THREAD_TYPE = ThreadTypes.CONTROL
    TICK_INTERVAL: ClassVar[float] = 0.01
    """Longest real-time wait between two ticks."""

    def __init__(
        self,
        state_store: StateStore,
        save_state_condition: Callable[[], bool] | None = None,
        states_keeper: StatesKeeper | None = None,
        timeout_for_all_threads_pause: float = 60.0,
        max_attempts_to_pause_all_threads: int = 3,
        max_uptime: float = math.inf,
        web_api_address: tuple[str, int] | None = ("localhost", 8391),
        web_api_command_queue_size: int = 1,
        web_api_token: str | None = None,
        *,
        metrics: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """Configure the control loop.

        Args:
            state_store: Where snapshots are saved.
            save_state_condition: Polled every tick; a save happens when it returns
                True. None never saves on its own.
            states_keeper: Removes old snapshots; told of every save.
            timeout_for_all_threads_pause: Seconds one pause attempt waits for the
                background threads.
            max_attempts_to_pause_all_threads: Pause attempts before giving up.
            max_uptime: Pamiq seconds after which the system shuts down.
            web_api_address: Host and port of the web API; None runs without one.
                The server starts with the thread and stops when it ends.
            web_api_command_queue_size: Commands that may wait for the next tick;
                more are refused with HTTP 503.
            web_api_token: Access token of the web API; None falls back to the
                environment variable ``PAMIQ_WEB_API_TOKEN``. Required when the
                host is not a loopback address.
            metrics: Returns the JSON-ready metrics the web API serves at
                ``GET /api/metrics`` (and its dashboard draws); None serves none.

        Raises:
            ValueError: If a timeout, attempt count or uptime is negative, or the
                web API would listen beyond loopback without an access token.
        """
        super().__init__()
        for name, value in (
            ("timeout_for_all_threads_pause", timeout_for_all_threads_pause),
            ("max_attempts_to_pause_all_threads", max_attempts_to_pause_all_threads),
            ("max_uptime", max_uptime),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}.")
        self._state_store = state_store
        self._save_state_condition = save_state_condition or (lambda: False)
        self._states_keeper = states_keeper
        self._timeout_for_all_threads_pause = timeout_for_all_threads_pause
        self._max_attempts_to_pause_all_threads = max_attempts_to_pause_all_threads
        self._max_uptime = max_uptime
        self._web_api_address = web_api_address
        self._web_api_command_queue_size = web_api_command_queue_size
        self._web_api_token = (
            None
            if web_api_address is None
            else resolve_token(web_api_address[0], web_api_token)
        )
        self._web_api_server: WebApiServer | None = None
        self._metrics = metrics
        self._start_time = -math.inf
        self._controller = ThreadController()
        self._running = True
        self._wakeup = threading.Event()
        self._thread_statuses_monitor = ThreadStatusesMonitor({})
        self._status_provider = SystemStatusProvider(
            self.controller, self._thread_statuses_monitor
        )
        self.last_saved_state_path: Path | None = None
        """The snapshot written by the latest successful :meth:`save_state`."""
        self.system_stats = SystemStats()
        """Start time and latest save, for the metrics (written by this thread)."""

    @property
    def controller(self) -> ReadOnlyController:
        """A read-only view of the controller, for the background threads."""
        return self._controller.read_only

    def attach_thread_statuses(
        self, thread_statuses: Mapping[ThreadTypes, ReadOnlyThreadStatus]
    ) -> None:
        """Watch the statuses of the background threads."""
        self._thread_statuses_monitor = ThreadStatusesMonitor(thread_statuses)
        self._status_provider = SystemStatusProvider(
            self.controller, self._thread_statuses_monitor
        )

    def system_status(self) -> SystemStatus:
        """The status the web API reports; safe to call from any thread."""
        return self._status_provider.get_current_status()

    def wake(self) -> None:
        """Run the next tick now instead of after the usual wait."""
        self._wakeup.set()

    def try_pause(self) -> bool:
        """Pause every background thread, then pamiq time.

        Each attempt asks the threads to pause and waits for all of them; a failed
        attempt resumes them before the next one.

        Returns:
            True if the system is paused.
        """
        if self._controller.is_pause():
            self._logger.info("System has already been paused.")
            return True
        self._logger.info("Trying to pause...")
        attempts = self._max_attempts_to_pause_all_threads
        timeout = self._timeout_for_all_threads_pause
        for attempt in range(1, attempts + 1):
            self._controller.pause()
            if self._thread_statuses_monitor.wait_for_all_threads_pause(timeout):
                self._logger.info("Paused all background threads.")
                self.on_paused()
                return True
            self._logger.warning(
                f"Failed to pause the background threads within {timeout} seconds "
                f"(attempt {attempt} of {attempts})."
            )
            self._controller.resume()
            if self._thread_statuses_monitor.check_exception_raised():
                break
        self._logger.error(f"Failed to pause after {attempts} attempt(s); giving up.")
        return False

    def resume(self) -> None:
        """Let pamiq time run again, then release the background threads."""
        self._logger.info("Resuming...")
        self.on_resumed()
        self._controller.resume()

    def shutdown(self) -> None:
        """Ask every thread to stop after its current step (safe to repeat)."""
        if self._running:
            self._logger.info("Shutting down...")
        self._controller.shutdown()
        self._running = False
        self._wakeup.set()

    def save_state(self) -> None:
        """Pause, save a snapshot, tell the keeper, and resume if it was running."""
        was_paused = self._controller.is_pause()
        if not self.try_pause():
            self._logger.info("Failed to pause. Aborting saving a state.")
            return
        path = self._state_store.save_state()
        self.last_saved_state_path = path
        self.system_stats.record_save(path)
        self._logger.info(f"Saved a state to '{path}'")
        if self._states_keeper is not None:
            self._states_keeper.append(path)
        if not was_paused:
            self.resume()

    @property
    def is_max_uptime_reached(self) -> bool:
        """Whether more than ``max_uptime`` pamiq seconds passed since start."""
        return time.time() - self._start_time > self._max_uptime

    def process_received_web_api_commands(self) -> None:
        """Carry out the commands received over the web API, oldest first.

        A shutdown ends the processing: commands behind it are left unhandled.
        """
        server = self._web_api_server
        if server is None:
            return
        while server.has_commands():
            try:
                command = server.receive_command()
            except queue.Empty:
                return
            match command:
                case ControlCommands.PAUSE:
                    self.try_pause()
                case ControlCommands.RESUME:
                    self.resume()
                case ControlCommands.SAVE_STATE:
                    self.save_state()
                case ControlCommands.SHUTDOWN:
                    self.shutdown()
                    return

    @override
    def is_running(self) -> bool:
        return self._running

    @override
    def on_start(self) -> None:
        super().on_start()
        self._start_time = time.time()
        self.system_stats.start()
        self._logger.info(f"Maximum uptime is set to {self._max_uptime} [sec].")
        if self._web_api_address is not None:
            host, port = self._web_api_address
            self._web_api_server = WebApiServer(
                self._status_provider,
                host=host,
                port=port,
                max_queue_size=self._web_api_command_queue_size,
                token=self._web_api_token,
                on_command=self.wake,
                metrics=self._metrics,
            )
            self._web_api_server.run_in_background()

    @override
    def on_tick(self) -> None:
        super().on_tick()
        if self._save_state_condition():
            self.save_state()
        if self._states_keeper is not None:
            self._states_keeper.cleanup()
        self.process_received_web_api_commands()
        if self._thread_statuses_monitor.check_exception_raised():
            self._logger.error(
                "An exception occurred. The system will terminate immediately."
            )
            self.shutdown()
        if self._running and self.is_max_uptime_reached:
            self._logger.info("Max uptime reached.")
            self.shutdown()
        if self._running:
            self._wait_for_next_tick()

    def _wait_for_next_tick(self) -> None:
        timeout = self.TICK_INTERVAL
        if math.isfinite(self._max_uptime) and not time.is_paused():
            left = self._start_time + self._max_uptime - time.time()
            timeout = min(timeout, max(0.0, left) / time.get_time_scale() + 1e-4)
        self._wakeup.wait(timeout)
        self._wakeup.clear()

    @override
    def on_finally(self) -> None:
        super().on_finally()
        self.shutdown()
        if self._web_api_server is not None:
            self._web_api_server.stop()

    @override
    def on_paused(self) -> None:
        super().on_paused()
        time.pause()

    @override
    def on_resumed(self) -> None:
        super().on_resumed()
        time.resume()
