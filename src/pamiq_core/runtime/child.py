"""The entry point of a training process: runs one group's trainers.

The process is started with the spawn method by :mod:`.process_side`. It receives
its payload (the group's trainers, models and data users, the pamiq clock) over the
control connection, then runs the trainers in a :class:`TrainingThread` of its own,
steered by a local :class:`ThreadController` that follows the commands of the
launching process. The main thread answers those commands; a second thread feeds
collected data into the data users' collectors. If the launching process dies, the
control connection breaks and this process leaves (Linux also kills it at once,
through the parent-death signal).
"""

import contextlib
import ctypes
import logging
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pamiq_core import time
from pamiq_core.data import DataUsersDict
from pamiq_core.model import TrainingModel, TrainingModelsDict
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

logger = logging.getLogger(__name__)

TELEMETRY_INTERVAL = 0.2
"""Seconds between telemetry reports."""


@dataclass
class Payload:
    """What a training process needs, sent once after it started."""

    group: TrainingGroup
    trainers: dict[str, Trainer]
    models: TrainingModelsDict
    data_users: DataUsersDict
    clock: time.ClockMirror
    switch_interval: float | None
    torch_num_threads: Any
    gc_freeze: bool
    preimport_torch: bool
    log_level: int
    generic_models: tuple[str, ...]
    """Models whose parameters travel pickled (no shared-memory path)."""
    shared_models: dict[str, int]
    """Models that publish syncs to shared slots: the index of their slots."""
    seed: int | None = None
    """Seeds the process's global generators (``LaunchConfig.seed``, derived per group)."""


def process_seed(seed: int | None, group: TrainingGroup) -> int | None:
    """The seed of a training process's global generators, or None without a seed.

    Derived from the system's seed and the group's label, so that each process
    draws its own stream and keeps it when other groups change.
    """
    if seed is None:
        return None
    return derive_seed(seed, f"process/{group.label}") % (MAX_SEED + 1)


class _Sender:
    """The control connection's sending end, shared by this process's threads."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        with self._lock:
            self._connection.send(message)


class _ForwardingLogger:
    """A tracking logger that sends the group's records to the launching process.

    There they join the system's own records: its loggers and its dashboard.
    """

    def __init__(self, sender: _Sender) -> None:
        self._sender = sender

    def open(self, run: RunInfo) -> Mapping[str, str] | None:
        return None

    def write(self, records: Sequence[ScalarRecord]) -> None:
        self._sender.send(messages.TrackingRecords(list(records)))

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        record = HParamsRecord(dict(hparams), time.fixed_time())
        self._sender.send(messages.TrackingRecords([record]))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class _ForwardingHandler(logging.Handler):
    """Sends this process's log records to the launching process."""

    def __init__(self, sender: _Sender) -> None:
        super().__init__()
        self._sender = sender

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = record.getMessage()
            record.args = None
            if record.exc_info:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
                record.exc_info = None
            record.processName = f"{record.processName} (pid {os.getpid()})"
            self._sender.send(messages.LogRecord(record))
        except Exception:  # the connection is gone: the process is ending anyway
            self.handleError(record)


def main(control: Connection, data: Connection, shared: list[Any]) -> None:
    """Run one training group until told to exit (the spawned process's target).

    Args:
        control: The control connection.
        data: The receiving end of the data connection.
        shared: Shared-memory parameter slots, as the payload refers to them.
    """
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the launcher's to handle
    sender = _Sender(control)
    try:
        payload: Payload = pickle.loads(control.recv_bytes())
    except BaseException as error:  # e.g. a class the process cannot import
        _report_failure(sender, error)
        return
    root = logging.getLogger()
    root.handlers[:] = [_ForwardingHandler(sender)]
    root.setLevel(payload.log_level)
    if payload.seed is not None:
        seed_everything(payload.seed)
    with runtime_settings(
        payload.switch_interval,
        payload.torch_num_threads,
        gc_freeze=payload.gc_freeze,
        preimport_torch=payload.preimport_torch,
    ):
        for name, index in payload.shared_models.items():
            payload.models.data[name]._publish_through(shared[index])  # type: ignore[attr-defined]
        _TrainingProcess(payload, control, data, sender).run()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the launching process dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _report_failure(sender: _Sender, error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    try:
        sender.send(messages.Failed(error, repr(error), text))
    except Exception:  # e.g. the error itself cannot be pickled
        with contextlib.suppress(Exception):
            sender.send(messages.Failed(None, repr(error), text))


class _TrainingProcess:
    """One group's trainers, steered by the launching process."""

    def __init__(
        self,
        payload: Payload,
        control: Connection,
        data: Connection,
        sender: _Sender,
    ) -> None:
        self._payload = payload
        self._control = control
        self._data = data
        self._sender = sender
        self._trainers = TrainersDict(payload.trainers)
        self._controller = ThreadController()
        self._thread = TrainingThread(self._trainers)
        self._thread.attach_controller(self._controller.read_only)
        self._marker = 0
        self._received = 0
        self._marker_changed = threading.Condition()
        self._failure_reported = False
        self._tracking = SystemTracking(
            buffers={n: u.buffer for n, u in payload.data_users.items()},
            trainers=self._trainers,
            loggers=[_ForwardingLogger(sender)],
        )
        self._model_names = {id(m): n for n, m in payload.models.data.items()}
        for name in payload.generic_models:
            payload.models.data[name]._sync_route = self._ship  # pyright: ignore[reportPrivateUsage]

    def run(self) -> None:
        time.get_global_time_controller().follow(self._payload.clock)
        threading.Thread(
            target=self._receive_data, name="pamiq-data", daemon=True
        ).start()
        self._tracking.start()  # the group's start hooks, before any training
        self._sender.send(messages.Ready())
        self._thread.start()
        try:
            self._serve_commands()
        finally:
            self._controller.shutdown()
            self._stop_tracking()

    def _serve_commands(self) -> None:
        while True:
            if self._control.poll(TELEMETRY_INTERVAL):
                try:
                    command = self._control.recv()
                except EOFError:
                    return  # the launching process is gone
                if isinstance(command, messages.Exit):
                    return
                self._carry_out(command)
            self._report_failure_once()
            self._sender.send(self._telemetry())

    def _carry_out(self, command: object) -> None:
        match command:
            case messages.Pause(request=request):
                self._pause(request)
            case messages.Resume(clock=clock):
                time.get_global_time_controller().follow(clock)
                self._controller.resume()
            case messages.Save(path=path, part=part, marker=marker):
                self._sender.send(messages.Saved(self._save(Path(path), part, marker)))
            case messages.Stop():
                self._stop()
            case _:
                raise TypeError(f"Unknown command for a training process: {command!r}")

    def _pause(self, request: int) -> None:
        self._controller.pause()
        status = self._thread.thread_status
        local = self._controller.pause_request()
        while not status.is_paused_for(local):
            if status.is_exception_raised():
                self._report_failure_once()
                return  # the launching side sees the failure, not an acknowledgement
            status.wait_for_pause(0.01)
        time.pause()
        self._sender.send(self._telemetry())
        self._sender.send(messages.Paused(request))

    def _stop(self) -> None:
        self._controller.shutdown()
        self._thread.join()
        self._report_failure_once()
        self._stop_tracking()
        self._sender.send(self._telemetry())
        self._sender.send(messages.Stopped())

    def _stop_tracking(self) -> None:
        """Run the group's stop hooks; send what was logged; report a failure."""
        try:
            self._tracking.stop()
        except Exception as error:
            if self._thread.exception is None:
                _report_failure(self._sender, error)

    def _save(self, path: Path, part: str, marker: int) -> BaseException | None:
        """Save the group's items of ``part`` into the directory ``path``."""
        with self._marker_changed:
            while self._marker < marker:
                self._marker_changed.wait()
        payload = self._payload
        items: dict[str, Any] = {
            "models": {n: payload.models.data[n] for n in payload.group.models},
            "data": dict(payload.data_users.data),
            "trainers": dict(self._trainers),
        }[part]
        try:
            save_items(path, items)
        except Exception as error:
            return error
        return None

    def _receive_data(self) -> None:
        collectors = self._payload.data_users.data_collectors_dict
        while True:
            try:
                batch: messages.DataBatch = pickle.loads(self._data.recv_bytes())
            except (EOFError, OSError):
                return
            for name, (items, timestamps) in batch.items.items():
                collectors[name]._receive(items, timestamps)  # pyright: ignore[reportPrivateUsage]
                self._received += len(items)
            with self._marker_changed:
                self._marker = batch.marker
                self._marker_changed.notify_all()

    def _ship(self, model: TrainingModel[Any]) -> None:
        """Send a model without a shared-memory path to the agent's side."""
        name = self._model_names[id(model)]
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        self._sender.send(messages.ModelUpdate(name, payload))

    def _report_failure_once(self) -> None:
        error = self._thread.exception
        if error is None or self._failure_reported:
            return
        self._failure_reported = True
        _report_failure(self._sender, error)

    def _telemetry(self) -> messages.Telemetry:
        payload = self._payload
        return messages.Telemetry(
            runs={n: asdict(s) for n, s in list(self._thread.run_stats.items())},
            syncs={
                n: asdict(payload.models.data[n].sync_stats)
                for n in payload.group.models
            },
            buffers=_lengths(payload.data_users),
            received=self._received,
        )


def _lengths(data_users: Mapping[str, Any]) -> dict[str, int]:
    return {name: len(user) for name, user in list(data_users.items())}
