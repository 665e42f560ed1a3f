"""The control thread: pause, resume, save, shutdown, and watching the others."""

import math
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

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

    A save that fails (a full disk, a component's ``save_state`` raising) is logged
    with the snapshot path and the part that failed, counted in
    :attr:`system_stats`, and the system runs on; the previous snapshots are left
    as they were. ``max_failed_saves_in_a_row`` makes repeated failures stop the
    system instead. While a pause is pending, commands keep being answered: a
    shutdown or resume cancels the pause.

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
        max_failed_saves_in_a_row: int | None = None,
        web_api_required: bool = True,
        events: Callable[[str, str | None], None] | None = None,
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
            max_failed_saves_in_a_row: After this many failed saves in a row the
                system shuts down and :meth:`run` raises the last failure
                (:class:`SaveFailedError`). None (the default) keeps running
                whatever fails.
            web_api_required: Whether a web API that cannot listen on its
                address is an error (see :meth:`open_web_api`); False logs a
                warning and runs without it.
            events: Told of each pause, resume and save (``"save"`` with the
                snapshot's path), for marking them on charts.

        Raises:
            ValueError: If a timeout, attempt count or uptime is negative, if
                ``max_failed_saves_in_a_row`` is not positive, or if the web API
                would listen beyond loopback without an access token.
        """
        super().__init__()
        for name, value in (
            ("timeout_for_all_threads_pause", timeout_for_all_threads_pause),
            ("max_attempts_to_pause_all_threads", max_attempts_to_pause_all_threads),
            ("max_uptime", max_uptime),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}.")
        if max_failed_saves_in_a_row is not None and max_failed_saves_in_a_row < 1:
            raise ValueError(
                "max_failed_saves_in_a_row must be a positive int or None, got "
                f"{max_failed_saves_in_a_row!r}."
            )
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
        self._max_failed_saves_in_a_row = max_failed_saves_in_a_row
        self._web_api_required = web_api_required
        self._events: Callable[[str, str | None], None] = events or _no_event
        self._failed_saves_in_a_row = 0
        self._deferred_requests: list[_Request] = []
        self._pause_cancelled = False
        self._fatal_error: SaveFailedError | None = None
        self._shutdown_reason: str | None = None  # set by any thread, read here
        self.last_saved_state_path: Path | None = None
        """The snapshot written by the latest successful :meth:`save_state`."""
        self.last_save_error: BaseException | None = None
        """Why the latest :meth:`save_state` failed; None after a success."""
        self.system_stats = SystemStats()
        """Start time and latest save, for the metrics (written by this thread)."""

    @property
    def states_keeper(self) -> StatesKeeper | None:
        """The keeper told of every save (None: snapshots are kept)."""
        return self._states_keeper

    @property
    def controller(self) -> ReadOnlyController:
        """A read-only view of the controller, for the background threads."""
        return self._controller.read_only

    def attach_thread_statuses(
        self, thread_statuses: Mapping[ThreadTypes | str, ReadOnlyThreadStatus]
    ) -> None:
        """Watch the statuses of the background threads, by type or by name."""
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

        Each attempt asks the threads to pause and waits until every one of them
        has acknowledged this very request; a failed attempt resumes them before
        the next one. Web API commands are answered while waiting: a shutdown or
        a resume cancels the pause.

        Returns:
            True if the system is paused.
        """
        if self._controller.is_pause():
            self._logger.info("System has already been paused.")
            return True
        if not self._running:
            self._logger.info("Not pausing: the system is shutting down.")
            return False
        self._logger.info("Trying to pause...")
        attempts = self._max_attempts_to_pause_all_threads
        timeout = self._timeout_for_all_threads_pause
        monitor = self._thread_statuses_monitor
        for attempt in range(1, attempts + 1):
            self._controller.pause()
            self._pause_cancelled = False
            if monitor.wait_for_all_threads_pause(
                timeout,
                self._controller.pause_request(),
                between_waits=self._answer_while_pausing,
            ):
                self._logger.info("Paused all background threads.")
                self.on_paused()
                self._events("pause", None)
                return True
            if self._pause_cancelled:
                self._logger.info("The pause was cancelled.")
                if not self._controller.is_shutdown():
                    self._controller.resume()
                return False
            self._logger.warning(
                f"Failed to pause the background threads within {timeout} seconds "
                f"(attempt {attempt} of {attempts})."
            )
            self._controller.resume()
            if monitor.check_exception_raised():
                break
        self._logger.error(f"Failed to pause after {attempts} attempt(s); giving up.")
        return False

    def _answer_while_pausing(self) -> bool:
        """Answer web API commands during a pause; False cancels the pause."""
        server = self._web_api_server
        while server is not None and server.has_commands():
            request = _take_request(server)
            if request is None:
                break
            match request.command:
                case ControlCommands.SHUTDOWN:
                    self.shutdown()
                    request.succeed()
                    self._pause_cancelled = True
                case ControlCommands.RESUME:
                    self._logger.info("Resume requested while pausing.")
                    request.succeed()
                    self._pause_cancelled = True
                case ControlCommands.PAUSE:
                    request.succeed({"detail": "a pause is already in progress"})
                case ControlCommands.SAVE_STATE:
                    self._deferred_requests.append(request)
            if self._pause_cancelled:
                return False
        return True

    def resume(self) -> None:
        """Let pamiq time run again, then release the background threads."""
        self._logger.info("Resuming...")
        self.on_resumed()
        self._controller.resume()
        self._events("resume", None)

    def shutdown(self) -> None:
        """Ask every thread to stop after its current step (safe to repeat)."""
        if self._running:
            self._logger.info("Shutting down...")
        self._controller.shutdown()
        self._running = False
        self._wakeup.set()

    def request_shutdown(self, reason: str) -> None:
        """Ask for a shutdown from another thread; the next tick carries it out.

        Safe to call from any thread (lock-step mode asks when its step limit is
        reached), unlike :meth:`shutdown`, which could race with a pause the
        control thread is making. ``reason`` is logged.
        """
        self._shutdown_reason = reason
        self._wakeup.set()

    def save_state(self) -> None:
        """Pause, save a snapshot, tell the keeper, and resume if it was running.

        A failed save leaves earlier snapshots untouched; it is logged with the
        snapshot path and the part that failed, counted in :attr:`system_stats`
        and kept in :attr:`last_save_error`, and the system runs on (unless
        ``max_failed_saves_in_a_row`` is reached: then it shuts down, and
        :meth:`run` raises :class:`SaveFailedError`).
        """
        was_paused = self._controller.is_pause()
        if not self.try_pause():
            self._logger.info("Failed to pause. Aborting saving a state.")
            self.last_save_error = SaveFailedError(
                "The state was not saved: the system could not be paused."
            )
            return
        try:
            path = self._state_store.save_state()
        except Exception as error:
            self._record_failed_save(error)
        else:
            self._record_save(path)
        if not was_paused and self._running:
            self.resume()

    def _record_save(self, path: Path) -> None:
        self.last_saved_state_path = path
        self.last_save_error = None
        self._failed_saves_in_a_row = 0
        self.system_stats.record_save(path)
        self._events("save", str(path))
        self._logger.info(f"Saved a state to '{path}'")
        if self._states_keeper is not None:
            self._states_keeper.append(path)

    def _record_failed_save(self, error: Exception) -> None:
        self.last_save_error = error
        self._failed_saves_in_a_row += 1
        self.system_stats.record_save_failure(
            str(getattr(error, "state_path", None) or self._state_store.states_dir),
            str(error),
        )
        self._logger.error(
            f"Saving a state failed ({self._failed_saves_in_a_row} in a row); the "
            f"previous snapshots are intact and the system keeps running: {error}",
            exc_info=error,
        )
        limit = self._max_failed_saves_in_a_row
        if limit is not None and self._failed_saves_in_a_row >= limit:
            self._logger.error(
                f"{limit} saves failed in a row (max_failed_saves_in_a_row); "
                "shutting down."
            )
            self._fatal_error = SaveFailedError(
                f"{limit} saves failed in a row; the last failure: {error}"
            )
            self._fatal_error.__cause__ = error
            self.shutdown()

    @property
    def is_max_uptime_reached(self) -> bool:
        """Whether more than ``max_uptime`` pamiq seconds passed since start."""
        return time.time() - self._start_time > self._max_uptime

    def process_received_web_api_commands(self) -> None:
        """Carry out the commands received over the web API, oldest first.

        Each request is answered when its command has been carried out: a failed
        pause or save gets an error that says why. A shutdown ends the
        processing: commands behind it are left unhandled.
        """
        server = self._web_api_server
        if server is None:
            return
        while self._deferred_requests or server.has_commands():
            if self._deferred_requests:
                request: _Request | None = self._deferred_requests.pop(0)
            else:
                request = _take_request(server)
            if request is None:
                return
            if self._carry_out(request) is ControlCommands.SHUTDOWN:
                return

    def _carry_out(self, request: "_Request") -> ControlCommands:
        command = request.command
        match command:
            case ControlCommands.PAUSE:
                if self.try_pause():
                    request.succeed()
                else:
                    request.fail("The system could not be paused; see its log.", 409)
            case ControlCommands.RESUME:
                self.resume()
                request.succeed()
            case ControlCommands.SAVE_STATE:
                self.save_state()
                if self.last_save_error is None:
                    request.succeed({"path": str(self.last_saved_state_path)})
                else:
                    request.fail(f"Saving failed: {self.last_save_error}", 500)
            case ControlCommands.SHUTDOWN:
                self.shutdown()
                request.succeed()
        return command

    @override
    def is_running(self) -> bool:
        return self._running

    def open_web_api(self) -> None:
        """Start serving the web API now, if it has an address and is not served yet.

        :meth:`on_start` calls it; ``launch`` calls it before any thread starts,
        so that a busy port stops the launch before anything runs.

        Raises:
            OSError: If the address cannot be served (for example, another system
                listens on the port) and the web API is required; otherwise the
                system runs without it, with a warning.
        """
        if self._web_api_address is None or self._web_api_server is not None:
            return
        try:
            self._serve_web_api(self._web_api_address)
        except OSError as error:
            if self._web_api_required:
                raise
            self._logger.warning(f"Running without a web API: {error}")
            self._web_api_address = None

    def _serve_web_api(self, address: tuple[str, int]) -> None:
        host, port = address
        server = WebApiServer(
            self._status_provider,
            host=host,
            port=port,
            max_queue_size=self._web_api_command_queue_size,
            token=self._web_api_token,
            on_command=self.wake,
            metrics=self._metrics,
        )
        server.run_in_background()  # binds here: a busy port raises at once
        self._web_api_server = server

    @override
    def run(self) -> None:
        """Run the control loop; raise :class:`SaveFailedError` if saves stopped it."""
        self._fatal_error = None
        super().run()
        if self._fatal_error is not None:
            raise self._fatal_error

    @override
    def on_start(self) -> None:
        super().on_start()
        self._start_time = time.time()
        self.system_stats.start()
        restart = getattr(self._save_state_condition, "restart", None)
        if callable(restart):
            restart()  # count periodic saves from the start, whatever the clock says
        self._logger.info(f"Maximum uptime is set to {self._max_uptime} [sec].")
        self.open_web_api()

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
        if self._running and self._shutdown_reason is not None:
            self._logger.info(self._shutdown_reason)
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

    def close_web_api(self) -> None:
        """Stop serving the web API and free its port (safe to repeat)."""
        server = self._web_api_server
        if server is not None:
            self._web_api_server = None
            server.stop()

    @override
    def on_finally(self) -> None:
        super().on_finally()
        self.shutdown()
        self.close_web_api()

    @override
    def on_paused(self) -> None:
        super().on_paused()
        time.pause()

    @override
    def on_resumed(self) -> None:
        super().on_resumed()
        time.resume()


def _no_event(kind: str, detail: str | None) -> None:
    """Ignore an event (no chart to mark)."""


class SaveFailedError(RuntimeError):
    """Saving a snapshot failed (repeatedly, when it stops the system)."""


class _Request(Protocol):
    """A web API command waiting for its answer."""

    @property
    def command(self) -> ControlCommands: ...

    def succeed(self, detail: Mapping[str, Any] | None = None) -> None: ...

    def fail(self, message: str, status_code: int = 500) -> None: ...


class _AnsweredAtOnce:
    """A command from a server that answers when it queues (no reply channel)."""

    def __init__(self, command: ControlCommands) -> None:
        self.command = command

    def succeed(self, detail: Mapping[str, Any] | None = None) -> None:
        pass

    def fail(self, message: str, status_code: int = 500) -> None:
        pass


def _take_request(server: WebApiServer) -> _Request | None:
    """The oldest waiting request, or None if there is none.

    A server without a reply channel (a test's stand-in) answers when it queues.
    """
    receive_request = getattr(server, "receive_request", None)
    try:
        if receive_request is not None:
            return cast(_Request, receive_request())
        return _AnsweredAtOnce(server.receive_command())
    except queue.Empty:
        return None
