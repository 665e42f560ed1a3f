"""The launching process's end of one training process: start, talk, stop.

A :class:`ProcessLink` owns the process and its two connections (see
:mod:`.messages`). Every read of the control connection happens while holding the
link's lock, by whichever thread needs an answer: the group's proxy thread while
the system runs, the control thread while it saves. Whoever reads hands every
message it finds on the way (telemetry, log records, parameter updates, failures)
to the link's :class:`~.remote_side.Reports`, so no message is lost whichever
thread reads it. A second thread sends the
collected data (:class:`DataSender`), so a slow training process never blocks
the control channel, and never the agent.
"""

import logging
import multiprocessing
import multiprocessing.connection
import pickle
import signal
import threading
import time as std_time
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from pamiq_core import time
from pamiq_core.data import DataCollector

from . import child, messages
from .group_runner import Payload
from .remote_side import Reports
from .seam import TrainingGroup

logger = logging.getLogger(__name__)

START_TIMEOUT = 120.0
"""Seconds a training process may take to start (imports included)."""

SEND_INTERVAL = 0.002
"""Seconds between two looks at the collectors for data to send."""


class TrainingProcessError(RuntimeError):
    """A training process failed in a way that has no exception of its own.

    For example, it died (killed, a segmentation fault, out of memory), or it
    could not start.
    """


class ProcessLink:
    """One training process, seen from the launching process (a ``GroupLink``)."""

    def __init__(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        reports: Reports,
        shared: list[object],
    ) -> None:
        """Prepare the link; nothing starts before :meth:`start`.

        Args:
            group: The group this process runs.
            collectors: The agent's collectors of the group's buffers.
            reports: Applies what the process reports.
            shared: What the process gets as arguments when it starts, because it
                can travel no other way (shared-memory parameter slots with their
                inter-process locks); the payload refers to them by index.
        """
        self.group = group
        self._reports = reports
        self._lock = threading.RLock()
        self._death: TrainingProcessError | None = None
        self._payload = b""
        self.ready = False
        """Whether the process has unpacked its payload and runs its trainers."""
        self._answers: list[object] = []
        context = multiprocessing.get_context("spawn")
        self._control, child_control = context.Pipe(duplex=True)
        data_receiver, self._data = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(
            target=child.main,
            args=(child_control, data_receiver, shared),
            name=f"pamiq-{group.label}",
            daemon=True,
        )
        self._child_ends = (child_control, data_receiver)
        self.sender = DataSender(group, collectors, self._data)

    @property
    def failure(self) -> BaseException | None:
        """Why the training process failed, once it did."""
        return self._reports.failure

    def start(self, payload: Payload) -> None:
        """Pickle the payload and start the process; do not wait for it.

        The process takes a while to start (a new interpreter importing the user's
        modules); :meth:`await_ready` sends it the payload and waits, so the agent
        can start acting meanwhile.
        """
        self._payload = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        self._process.start()
        for end in self._child_ends:
            end.close()

    def await_ready(self, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Send the payload and wait until the process has unpacked it.

        Args:
            cancelled: Checked while waiting; True gives up (the system is
                shutting down before the process got ready).

        Returns:
            True if the process is ready, False if the wait was cancelled.

        Raises:
            Exception: The error the process met while starting (unpacking the
                payload, importing a module), as raised there; or
                :class:`TrainingProcessError` if it exited without one.
        """
        with self._lock:
            try:
                self._control.send_bytes(self._payload)
                ready = self._await(
                    lambda m: isinstance(m, messages.Ready),
                    START_TIMEOUT,
                    cancelled=cancelled,
                )
            except (TrainingProcessError, OSError) as error:
                self._died()
                death = self._death or error
                death.add_note(
                    "If the traceback printed above shows the main module being "
                    'run again, guard its start with `if __name__ == "__main__":`.'
                )
                raise death from None
            finally:
                self._payload = b""
        if ready is None:
            return False
        self.ready = True
        self.sender.start()
        return True

    @property
    def alive(self) -> bool:
        """Whether the training process runs."""
        return self._process.is_alive()

    @property
    def pid(self) -> int | None:
        """The training process's id."""
        return self._process.pid

    def pump(self, timeout: float) -> None:
        """Handle the messages that arrive within ``timeout`` seconds.

        Raises:
            BaseException: The training process's failure, once it failed.
        """
        with self._lock:
            self._receive(timeout)
        if self.failure is not None:
            raise self.failure

    def pause(self, request: int) -> None:
        """Pause the process for ``request``; return once it acknowledged."""
        with self._lock:  # a failure instead of an answer ends the wait
            self._control.send(messages.Pause(request))
            self._await(
                lambda m: isinstance(m, messages.Paused) and m.request == request,
                None,
                give_up_on_failure=True,
            )

    def resume(self, clock: time.ClockMirror) -> None:
        """Resume the process, reading pamiq time as ``clock`` says."""
        self.send(messages.Resume(clock))

    def stop(self) -> None:
        """Stop the process's training (it stays for the final save)."""
        self.request(messages.Stop(), lambda m: isinstance(m, messages.Stopped), None)

    def save_part(self, path: Path, part: str, timeout: float) -> None:
        """Have the process save its items of ``part`` into ``path``.

        Raises:
            Exception: Why the save failed there.
        """
        marker = self.sender.flush(timeout) if part == "data" else 0
        answer: messages.Saved = self.request(
            messages.Save(str(path), part, marker),
            lambda m: isinstance(m, messages.Saved),
            timeout,
        )
        if answer.error is not None:
            raise answer.error

    def describe_activity(self) -> str:
        """What the proxy thread waits for."""
        return f"waiting for its process (pid {self.pid})"

    def request(
        self, command: object, answer: Callable[[object], bool], timeout: float | None
    ) -> Any:
        """Send ``command`` and return the first message for which ``answer`` holds.

        Raises:
            BaseException: The training process's failure, if it failed first.
            TimeoutError: If no answer came within ``timeout`` seconds.
        """
        with self._lock:
            self._control.send(command)
            return self._await(answer, timeout)

    def send(self, command: object) -> None:
        """Send ``command`` without waiting for an answer."""
        with self._lock:
            self._control.send(command)

    def close(self, timeout: float) -> None:
        """Tell the process to exit; kill it if it has not within ``timeout``."""
        self.sender.close()
        if self._process.is_alive() and self._lock.acquire(timeout=1.0):
            try:  # (a proxy thread stuck waiting for a hung process holds the lock)
                self._control.send(messages.Exit())
            except (OSError, ValueError):
                pass
            finally:
                self._lock.release()
            self._process.join(timeout)
        if self._process.is_alive():
            logger.warning(f"Killing the training process {self.group.label}.")
            self._process.kill()
            self._process.join(5.0)
        self._control.close()

    def _await(
        self,
        wanted: Callable[[object], bool],
        timeout: float | None,
        give_up_on_failure: bool = False,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Any:
        """The first message for which ``wanted`` holds; None if ``cancelled``."""
        deadline = None if timeout is None else std_time.monotonic() + timeout
        while True:
            for index, message in enumerate(self._answers):
                if wanted(message):
                    return self._answers.pop(index)
            if cancelled():
                return None
            if self._death is not None:
                raise self._death  # a failed process still answers; a dead one not
            failure = self.failure
            if give_up_on_failure and failure is not None:
                raise failure  # (a trainer that fails while pausing never pauses)
            remaining = None if deadline is None else deadline - std_time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(
                    f"The training process {self.group.label} did not answer within "
                    f"{timeout} seconds."
                )
            self._receive(0.05 if remaining is None else min(remaining, 0.05))

    def _receive(self, timeout: float) -> None:
        """Read and handle what arrives within ``timeout``; notice a death."""
        ready = multiprocessing.connection.wait(
            [self._control, self._process.sentinel], timeout
        )
        received: list[object] = []
        closed = False
        try:
            while self._control.poll():
                received.append(self._control.recv())
        except (EOFError, OSError):
            closed = True  # the process's end is gone: all it sent has been read
        self._answers.extend(self._reports.handle(received))
        if closed or self._process.sentinel in ready:
            self._died()

    def _died(self) -> None:
        if self._death is not None:
            return
        self._process.join(1.0)
        if self._process.is_alive():
            return  # the connection closed first; the exit follows
        code = self._process.exitcode
        if code is not None and code < 0:
            how = f"was killed by signal {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        self._death = TrainingProcessError(
            f"The training process {self.group.label} (pid {self._process.pid}, "
            f"trainers {list(self.group.trainers)}) {how}."
        )
        self._reports.died(self._death)


class DataSender(threading.Thread):
    """Sends what the agent collects for a group's buffers to its training process.

    Every couple of milliseconds it takes everything the collectors hold (an O(1)
    swap under each collector's lock) and sends it as one pickled batch, oldest
    first. If the training process falls behind, sending blocks this thread, not
    the agent; the collectors' bounded queues then drop their oldest items.
    """

    def __init__(
        self,
        group: TrainingGroup,
        collectors: Mapping[str, DataCollector[Any]],
        connection: multiprocessing.connection.Connection,
    ) -> None:
        super().__init__(name=f"pamiq-data-{group.label}", daemon=True)
        self._collectors = {n: collectors[n] for n in group.buffers}
        self._connection = connection
        self._wake = threading.Event()
        self._sent = threading.Condition()
        self._requested_marker = 0
        self._sent_marker = 0
        self._closed = False
        self._broken: BaseException | None = None
        self.items_sent = 0

    def run(self) -> None:
        """Send what was collected every couple of milliseconds until closed."""
        while not self._closed:
            self._wake.wait(SEND_INTERVAL)
            self._wake.clear()
            with self._sent:
                marker = self._requested_marker
            try:
                self._send_pending(marker)
            except (OSError, ValueError) as error:
                with self._sent:
                    self._broken = error
                    self._sent.notify_all()
                return
            with self._sent:
                self._sent_marker = marker
                self._sent.notify_all()

    def _send_pending(self, marker: int) -> None:
        items: dict[str, tuple[list[Any], list[float]]] = {}
        for name, collector in self._collectors.items():
            pending = collector._move_data()  # pyright: ignore[reportPrivateUsage]
            if len(pending):
                items[name] = pending._items_and_timestamps()  # pyright: ignore[reportPrivateUsage]
        if items or marker > self._sent_marker:
            batch = messages.DataBatch(items, marker)
            self._connection.send_bytes(
                pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            )
            self.items_sent += sum(len(i) for i, _ in items.values())

    def flush(self, timeout: float) -> int:
        """Send everything collected so far; return the marker that follows it.

        Raises:
            OSError: If the connection broke (the training process is gone).
            TimeoutError: If it could not be sent within ``timeout`` seconds.
        """
        with self._sent:
            self._requested_marker += 1
            marker = self._requested_marker
            self._wake.set()
            if not self._sent.wait_for(
                lambda: self._sent_marker >= marker or self._broken is not None,
                timeout,
            ):
                raise TimeoutError("Collected data could not be sent in time.")
            if self._broken is not None:
                raise OSError(f"The data connection broke: {self._broken}")
        return marker

    def close(self) -> None:
        """Stop sending and close the connection."""
        self._closed = True
        self._wake.set()
        if self.is_alive():
            self.join(5.0)
        self._connection.close()
