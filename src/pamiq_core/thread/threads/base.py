"""The lifecycle every framework thread follows, and the background variant."""

import logging
import sys
import threading
import traceback
from typing import ClassVar

from typing_extensions import override

from pamiq_core.utils.reflection import get_class_module_path

from ..thread_control import (
    ControllerCommandHandler,
    ReadOnlyController,
    ReadOnlyThreadStatus,
    ThreadEventMixin,
    ThreadStatus,
)
from ..thread_types import ThreadTypes


class Thread(ThreadEventMixin):
    """A loop with hooks: start, tick until told to stop, end, finally.

    :meth:`run` drives the hooks in the calling thread. The loop does not sleep
    between ticks (``LOOP_DELAY`` is 0); a subclass paces itself inside ``on_tick``.
    An exception is logged, reported through :meth:`on_exception` and re-raised;
    ``on_finally`` runs in every case.
    """

    THREAD_TYPE: ClassVar[ThreadTypes]
    LOOP_DELAY: ClassVar[float] = 0.0
    """Seconds of real time to sleep after each tick; 0 (the default) never sleeps."""

    def __init__(self) -> None:
        """Check the subclass names its thread type and create its logger.

        Raises:
            AttributeError: If the subclass does not define ``THREAD_TYPE``.
        """
        if not hasattr(self, "THREAD_TYPE"):
            raise AttributeError(
                "Subclasses must define `THREAD_TYPE` attribute before instantiation."
            )
        self._logger = logging.getLogger(get_class_module_path(type(self)))

    @property
    def thread_name(self) -> str:
        """``control``, ``inference`` or ``training``."""
        return self.THREAD_TYPE.thread_name

    def run(self) -> None:
        """Run the thread's lifecycle in the calling thread."""
        self._logger.info(f"Start '{self.thread_name}' thread.")
        try:
            self.on_start()
            delay = self.LOOP_DELAY
            while self.is_running():
                self.on_tick()
                if delay > 0:
                    threading.Event().wait(delay)
            self.on_end()
        except Exception:
            self._logger.exception(
                f"An exception has occurred in '{self.thread_name}' thread."
            )
            self.on_exception()
            raise
        finally:
            self.on_finally()
            self._logger.info(f"End '{self.thread_name}' thread.")

    def is_running(self) -> bool:
        """Whether to tick again (always True by default)."""
        return True

    def on_start(self) -> None:
        """Run once before the first tick."""

    def on_tick(self) -> None:
        """Do one unit of work."""

    def on_end(self) -> None:
        """Run once after the loop ended normally."""

    def on_exception(self) -> None:
        """Run when a hook raised an exception, before ``on_finally``."""

    def on_finally(self) -> None:
        """Run last, whatever happened."""


class BackgroundThread(Thread):
    """A :class:`Thread` that runs on its own :class:`threading.Thread`.

    It follows the commands of a :class:`~pamiq_core.thread.ReadOnlyController`
    (attached before start) and reports through its :class:`ThreadStatus`: paused
    only after the pause hooks of its components have returned, and exception raised
    when it dies. The exception itself is kept in :attr:`exception` for the launcher
    to re-raise; it does not escape to :func:`threading.excepthook`.

    The thread is a daemon thread (0.6 used a plain one): a thread that does not
    stop when told to, such as a hung trainer, does not keep the process alive
    after :func:`~pamiq_core.launch` has given up on it.
    """

    def __init__(self) -> None:
        """Prepare the underlying thread and status.

        Raises:
            ValueError: If the subclass is of the control thread type.
        """
        super().__init__()
        if self.THREAD_TYPE is ThreadTypes.CONTROL:
            raise ValueError("BackgroundThread cannot be of type 'control'.")
        self._thread = threading.Thread(
            target=self._run_and_keep_exception,
            name=f"pamiq-{self.thread_name}",
            daemon=True,
        )
        self._thread_status = ThreadStatus()
        self.exception: BaseException | None = None

    def _run_and_keep_exception(self) -> None:
        try:
            self.run()
        except BaseException as e:
            self.exception = e
            self._thread_status.exception_raised()

    @property
    def thread_status(self) -> ReadOnlyThreadStatus:
        """The read-only view of this thread's status."""
        return self._thread_status.read_only

    def attach_controller(self, controller: ReadOnlyController) -> None:
        """Follow the commands of ``controller``."""
        self._controller = controller
        self._controller_command_handler = ControllerCommandHandler(
            controller, self.on_paused, self.on_resumed
        )

    @override
    def on_paused(self) -> None:
        """Report paused. Subclasses pause their components first, then call this.

        The report acknowledges the controller's current pause request: the thread
        has not stepped since it saw the pause, and will not until a resume.
        """
        super().on_paused()
        self._thread_status.pause(self._controller.pause_request())

    @override
    def on_resumed(self) -> None:
        """Report running. Subclasses resume their components first, then call this."""
        super().on_resumed()
        self._thread_status.resume()

    @override
    def is_running(self) -> bool:
        """Wait out a pause; False once shut down."""
        return self._controller_command_handler.manage_loop()

    @override
    def on_exception(self) -> None:
        super().on_exception()
        self._thread_status.exception_raised()

    def start(self) -> None:
        """Start the underlying thread."""
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the underlying thread to end."""
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the underlying thread is running."""
        return self._thread.is_alive()

    def stack(self) -> str:
        """The thread's current call stack, formatted (empty if it is not running)."""
        frame = sys._current_frames().get(self._thread.ident or -1)  # pyright: ignore[reportPrivateUsage]
        return "" if frame is None else "".join(traceback.format_stack(frame))

    def describe_activity(self) -> str:
        """What the thread is doing now, in a few words, for error messages."""
        frame = sys._current_frames().get(self._thread.ident or -1)  # pyright: ignore[reportPrivateUsage]
        if frame is None:
            return "not running"
        code = frame.f_code
        return f"in {code.co_name}() at {code.co_filename}:{frame.f_lineno}"
