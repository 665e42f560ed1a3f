"""Runs one training group away from the agent, whatever carries its messages.

A :class:`GroupRunner` is what a training process (:mod:`.child`) and a Ray actor
(:mod:`.ray_actor`) have in common: the group's trainers in a local
:class:`TrainingThread`, steered by a local :class:`ThreadController` that follows
the launcher's commands (pause for a numbered request and acknowledge it, resume
following the launcher's clock, save one part, stop), collected data fed into the
data users' collectors in order, and everything the group reports (telemetry,
logged scalars, log records, failures) handed to ``emit`` as the messages of
:mod:`.messages`. The transport decides how the messages travel.
"""

import logging
import os
import pickle
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pamiq_core import time
from pamiq_core.data import DataUsersDict
from pamiq_core.model import TrainingModelsDict
from pamiq_core.realtime import runtime_settings
from pamiq_core.seeding import MAX_SEED, derive_seed, seed_everything
from pamiq_core.thread import ThreadController
from pamiq_core.thread.threads import TrainingThread
from pamiq_core.tracking import (
    HParamsRecord,
    HParamValue,
    RunInfo,
    ScalarRecord,
    SystemTracking,
)
from pamiq_core.trainer import Trainer, TrainersDict

from . import messages
from .seam import TrainingGroup, save_items

Emit = Callable[[object], None]
"""Sends one message of :mod:`.messages` to the launcher; safe from any thread."""


@dataclass
class Payload:
    """What the training side of a group needs, sent once when it starts."""

    group: TrainingGroup
    trainers: dict[str, Trainer]
    models: TrainingModelsDict
    data_users: DataUsersDict
    clock: time.ClockMirror
    switch_interval: float | None
    torch_num_threads: Any
    log_level: int
    generic_models: tuple[str, ...]
    """Models whose parameters travel pickled (no path of their own)."""
    shared_models: dict[str, int]
    """Process mode: models that publish syncs to shared slots, with their index."""
    gc_freeze: bool = False
    preimport_torch: bool = False
    seed: int | None = None
    """Seeds the group's global generators (``LaunchConfig.seed``, derived per group)."""


def group_seed(seed: int | None, group: TrainingGroup) -> int | None:
    """The seed of a group's global generators, or None without a seed.

    Derived from the system's seed and the group's label, so that each group draws
    its own stream and keeps it when other groups change.
    """
    if seed is None:
        return None
    return derive_seed(seed, f"process/{group.label}") % (MAX_SEED + 1)


def group_settings(payload: Payload) -> AbstractContextManager[None]:
    """Seed the group's global generators, then apply its runtime settings.

    The settings are those of :func:`pamiq_core.realtime.runtime_settings`, undone
    when the returned context exits.
    """
    if payload.seed is not None:
        seed_everything(payload.seed)
    return runtime_settings(
        payload.switch_interval,
        payload.torch_num_threads,
        gc_freeze=payload.gc_freeze,
        preimport_torch=payload.preimport_torch,
    )


def failure_message(error: BaseException) -> messages.Failed:
    """The :class:`~.messages.Failed` report of ``error``, always picklable.

    An exception that cannot be pickled travels as its ``repr`` and traceback.
    """
    text = "".join(traceback.format_exception(error))
    try:
        pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return messages.Failed(None, repr(error), text)
    return messages.Failed(error, repr(error), text)


class _ForwardingLogger:
    """A tracking logger that hands the group's records to the launcher.

    There they join the system's own records: its loggers and its dashboard.
    """

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def open(self, run: RunInfo) -> Mapping[str, str] | None:
        return None

    def write(self, records: Sequence[ScalarRecord]) -> None:
        self._emit(messages.TrackingRecords(list(records)))

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        record = HParamsRecord(dict(hparams), time.fixed_time())
        self._emit(messages.TrackingRecords([record]))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _ForwardingHandler(logging.Handler):
    """Hands the log records of the training side to the launcher's logging."""

    def __init__(self, emit: Emit, where: str) -> None:
        super().__init__()
        self._emit = emit
        self._where = where

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
                record.exc_info = None
            record.processName = f"{record.processName} ({self._where})"
            self._emit(messages.LogRecord(record))
        except Exception:  # the channel is gone: the training side is ending anyway
            self.handleError(record)


def forward_logging(emit: Emit, level: int) -> None:
    """Send every log record of this process to the launcher, from ``level`` up."""
    root = logging.getLogger()
    root.handlers[:] = [_ForwardingHandler(emit, f"pid {os.getpid()}")]
    root.setLevel(level)


class GroupRunner:
    """One group's trainers, steered by the launcher through a transport.

    Threads: the transport calls :meth:`pause`, :meth:`resume`, :meth:`save` and
    :meth:`stop` from one thread at a time (its command thread), and
    :meth:`feed` from one thread at a time (its data thread); :meth:`telemetry`
    from any. The training thread is the runner's own.
    """

    def __init__(
        self,
        payload: Payload,
        emit: Emit,
        thread: Callable[[TrainersDict], TrainingThread] = TrainingThread,
    ) -> None:
        """Prepare the group of ``payload``; nothing runs before :meth:`start`.

        Args:
            payload: The group's components and settings.
            emit: Where reports go.
            thread: Makes the thread that runs the trainers.
        """
        self.payload = payload
        self._emit = emit
        self.trainers = TrainersDict(payload.trainers)
        self.controller = ThreadController()
        self.thread = thread(self.trainers)
        self.thread.attach_controller(self.controller.read_only)
        self._marker = 0
        self._marker_changed = threading.Condition()
        self.received = 0
        self._failure_reported = False
        self._tracking = SystemTracking(
            buffers={n: u.buffer for n, u in payload.data_users.items()},
            trainers=self.trainers,
            loggers=[_ForwardingLogger(emit)],
        )

    def prepare(self) -> None:
        """Follow the launcher's clock and run the group's start hooks."""
        time.get_global_time_controller().follow(self.payload.clock)
        self._tracking.start()  # the group's start hooks, before any training

    def start_training(self) -> None:
        """Start the training thread."""
        self.thread.start()

    def pause(self, request: int) -> bool:
        """Pause the trainers for ``request`` and freeze the clock.

        Returns:
            True once every trainer is paused; False if the training thread failed
            instead (the failure has been reported).
        """
        self.controller.pause()
        status = self.thread.thread_status
        local = self.controller.pause_request()
        while not status.is_paused_for(local):
            if status.is_exception_raised():
                self.report_failure_once()
                return False
            status.wait_for_pause(0.01)
        time.pause()
        return True

    def resume(self, clock: time.ClockMirror) -> None:
        """Read pamiq time as ``clock`` says, then let the trainers run again."""
        time.get_global_time_controller().follow(clock)
        self.controller.resume()

    def stop(self) -> None:
        """Stop the trainers for good, run the stop hooks, report a failure."""
        self.controller.shutdown()
        self.thread.join()
        self.report_failure_once()
        self.stop_tracking()

    def close(self) -> None:
        """Shut down without waiting (the transport is leaving)."""
        self.controller.shutdown()
        self.stop_tracking()

    def stop_tracking(self) -> None:
        """Run the group's stop hooks; report their failure if nothing failed yet."""
        try:
            self._tracking.stop()
        except Exception as error:
            if self.thread.exception is None:
                self._emit(failure_message(error))

    def items(self, part: str) -> dict[str, Any]:
        """The group's items of the snapshot part ``part``, by name."""
        payload = self.payload
        if part == "models":
            return {n: payload.models.data[n] for n in payload.group.models}
        if part == "data":
            return dict(payload.data_users.data)
        if part == "trainers":
            return dict(self.trainers)
        raise ValueError(f"Unknown snapshot part {part!r}.")

    def wait_for_marker(self, marker: int, timeout: float | None = None) -> bool:
        """Wait until the data up to flush marker ``marker`` has been fed."""
        with self._marker_changed:
            return self._marker_changed.wait_for(
                lambda: self._marker >= marker, timeout
            )

    def save(self, path: Path, part: str, marker: int) -> BaseException | None:
        """Save the group's items of ``part`` into the directory ``path``.

        For ``"data"``, first wait until the data up to ``marker`` has been fed.

        Returns:
            None, or the error that stopped the save.
        """
        self.wait_for_marker(marker)
        try:
            save_items(path, self.items(part))
        except Exception as error:
            return error
        return None

    def feed(self, batch: messages.DataBatch) -> None:
        """Queue a batch of collected items for the data users, in order."""
        collectors = self.payload.data_users.data_collectors_dict
        for name, (items, timestamps) in batch.items.items():
            collectors[name]._receive(items, timestamps)  # pyright: ignore[reportPrivateUsage]
            self.received += len(items)
        with self._marker_changed:
            self._marker = max(self._marker, batch.marker)
            self._marker_changed.notify_all()

    def report_failure_once(self) -> None:
        """Report the training thread's error, once it has one."""
        error = self.thread.exception
        if error is None or self._failure_reported:
            return
        self._failure_reported = True
        self._emit(failure_message(error))

    def telemetry(self) -> messages.Telemetry:
        """The group's measurements now."""
        payload = self.payload
        return messages.Telemetry(
            runs={n: asdict(s) for n, s in list(self.thread.run_stats.items())},
            syncs={
                n: asdict(payload.models.data[n].sync_stats)
                for n in payload.group.models
            },
            buffers={n: len(u) for n, u in list(payload.data_users.items())},
            received=self.received,
        )
