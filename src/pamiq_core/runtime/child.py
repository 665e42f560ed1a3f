"""The entry point of a training process: runs one group's trainers.

The process is started with the spawn method by :mod:`.process_side`. It receives
its payload (the group's trainers, models and data users, the pamiq clock) over the
control connection, then runs them in a :class:`~.group_runner.GroupRunner`. The
main thread answers the launching process's commands; a second thread feeds
collected data into the data users' collectors. If the launching process dies, the
control connection breaks and this process leaves (Linux also kills it at once,
through the parent-death signal).
"""

import contextlib
import ctypes
import pickle
import signal
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pamiq_core.model import TrainingModel

from . import messages
from .group_runner import (
    GroupRunner,
    Payload,
    failure_message,
    forward_logging,
    group_settings,
)

__all__ = ["Payload", "TELEMETRY_INTERVAL", "main"]

TELEMETRY_INTERVAL = 0.2
"""Seconds between telemetry reports."""


class _Sender:
    """The control connection's sending end, shared by this process's threads."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        with self._lock:
            self._connection.send(message)


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
        sender.send(failure_message(error))
        return
    forward_logging(sender.send, payload.log_level)
    with group_settings(payload):
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


class _TrainingProcess:
    """One group's trainers, steered by the launching process over a pipe."""

    def __init__(
        self,
        payload: Payload,
        control: Connection,
        data: Connection,
        sender: _Sender,
    ) -> None:
        self._control = control
        self._data = data
        self._sender = sender
        self._runner = GroupRunner(payload, sender.send)
        self._model_names = {id(m): n for n, m in payload.models.data.items()}
        for name in payload.generic_models:
            payload.models.data[name]._sync_route = self._ship  # pyright: ignore[reportPrivateUsage]

    def run(self) -> None:
        runner = self._runner
        runner.prepare()
        threading.Thread(
            target=self._receive_data, name="pamiq-data", daemon=True
        ).start()
        self._sender.send(messages.Ready())
        runner.start_training()
        try:
            self._serve_commands()
        finally:
            runner.close()

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
            self._runner.report_failure_once()
            self._sender.send(self._runner.telemetry())

    def _carry_out(self, command: object) -> None:
        runner = self._runner
        match command:
            case messages.Pause(request=request):
                if runner.pause(request):
                    self._sender.send(runner.telemetry())
                    self._sender.send(messages.Paused(request))
            case messages.Resume(clock=clock):
                runner.resume(clock)
            case messages.Save(path=path, part=part, marker=marker):
                self._sender.send(messages.Saved(runner.save(Path(path), part, marker)))
            case messages.Stop():
                runner.stop()
                self._sender.send(runner.telemetry())
                self._sender.send(messages.Stopped())
            case _:
                raise TypeError(f"Unknown command for a training process: {command!r}")

    def _receive_data(self) -> None:
        while True:
            try:
                batch: messages.DataBatch = pickle.loads(self._data.recv_bytes())
            except (EOFError, OSError):
                return
            self._runner.feed(batch)

    def _ship(self, model: TrainingModel[Any]) -> None:
        """Send a model without a shared-memory path to the agent's side."""
        name = self._model_names[id(model)]
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        self._sender.send(messages.ModelUpdate(name, payload))
