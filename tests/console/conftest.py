"""Shared pieces of the console tests.

Routes are tested in-process: :func:`app_client` drives a server's application with
Starlette's test client, and :func:`in_process` makes a ``WebApiClient`` do the
same. Only the server's own life cycle (binding, stopping, connection limits) uses
real sockets, in ``test_web_api_server.py`` and ``test_flood.py``.
"""

import queue
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.10's test client prefers httpx2 but still runs on httpx, which
    # the project uses everywhere else; not worth a second HTTP client library.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from pamiq_core.console import (
    ControlCommands,
    SystemStatusProvider,
    WebApiClient,
    WebApiServer,
)
from pamiq_core.console.web_api import TOKEN_ENV_VAR, CommandRequest
from pamiq_core.metrics import Metrics, RunStats, StepPeriods, SyncStats, SystemStats
from pamiq_core.thread import ThreadController, ThreadStatus, ThreadStatusesMonitor
from pamiq_core.thread.thread_types import ThreadTypes
from pamiq_core.tracking import ScalarRecord, Tracker


def free_port() -> int:
    """A port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Buffer:
    """Stands in for a data buffer: a size and a capacity."""

    def __init__(self, size: int, max_size: int) -> None:
        self.size = size
        self.max_size = max_size

    def __len__(self) -> int:
        return self.size


def sample_scalars() -> Tracker:
    """A tracker (never started) whose history holds a trainer's loss over 30
    runs, an agent's reward over 10 steps and a pause, as the system marks it."""
    tracker = Tracker([])
    tracker.history.set_namespaces(["trainers/trainer", "agent"])
    tracker.history.add(
        ScalarRecord("trainers/trainer/loss", 1.0 / (run + 1), run, 1.7e9 + run)
        for run in range(30)
    )
    tracker.history.record_event("pause", wall_time=1.7e9 + 30)
    tracker.history.add(
        ScalarRecord("agent/reward", float(step), step, 1.7e9 + 31 + step)
        for step in range(10)
    )
    return tracker


def sample_metrics() -> Metrics:
    """Metrics with some of everything recorded, a failed save and scalars included."""
    steps = StepPeriods()
    for step in range(50):
        steps.tick(step * 0.01)
    trainer = RunStats()
    trainer.record(0.25, finished_at=1.0)
    model = SyncStats()
    model.training_version = 3
    model.record_sync(0.001)
    model.training_version = 4
    critic = SyncStats(syncs_inference_model=False)  # training only
    critic.training_version = 15
    system = SystemStats()
    system.start()
    system.record_save("/states/one.state")
    system.record_save_failure("/states/two.state", "[Errno 28] No space left")
    return Metrics(
        inference_steps=steps,
        trainers={"trainer": trainer, "idle": RunStats()},
        models={"model": model, "critic": critic},
        buffers={"buffer": Buffer(30, 100)},
        system=system,
        scalars=sample_scalars().summary,
    )


class FakeSystem:
    """A real controller and real thread statuses, driven by hand."""

    def __init__(self) -> None:
        self.controller = ThreadController()
        self.inference = ThreadStatus()
        self.training = ThreadStatus()
        self.monitor = ThreadStatusesMonitor(
            {
                ThreadTypes.INFERENCE: self.inference.read_only,
                ThreadTypes.TRAINING: self.training.read_only,
            }
        )
        self.provider = SystemStatusProvider(self.controller.read_only, self.monitor)
        self.metrics = sample_metrics()
        self.metrics.status = self.provider.get_current_status


Answer = Callable[[CommandRequest], None]


def succeed(request: CommandRequest) -> None:
    request.succeed()


class ControlStandIn:
    """Takes the server's commands as the control thread does, on its own thread.

    Each command is recorded and answered by ``answer`` (default: succeed). Pause
    and resume also change the fake system's status.
    """

    def __init__(self, system: FakeSystem) -> None:
        self.system = system
        self.answer: Answer = succeed
        self.received: queue.Queue[ControlCommands] = queue.Queue()
        self._servers: list[WebApiServer] = []
        self._arrived = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def serve(self, server: WebApiServer) -> None:
        """Take the commands of ``server`` too."""
        self._servers.append(server)
        if self._thread.ident is None:
            self._thread.start()

    def wake(self) -> None:
        self._arrived.set()

    def stop(self) -> None:
        self._stop.set()
        self._arrived.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=10)

    def commands(self) -> list[ControlCommands]:
        """The commands received so far (each once)."""
        taken: list[ControlCommands] = []
        while not self.received.empty():
            taken.append(self.received.get_nowait())
        return taken

    def _run(self) -> None:
        while not self._stop.is_set():
            self._arrived.wait()
            self._arrived.clear()
            for server in list(self._servers):
                self._take_commands(server)

    def _take_commands(self, server: WebApiServer) -> None:
        statuses = (self.system.inference, self.system.training)
        while server.has_commands():
            try:
                request = server.receive_request()
            except queue.Empty:  # stopped meanwhile: the server answered it
                return
            if request.command is ControlCommands.PAUSE:
                self.system.controller.pause()
                for status in statuses:
                    status.pause()
            elif request.command is ControlCommands.RESUME:
                self.system.controller.resume()
                for status in statuses:
                    status.resume()
            self.received.put(request.command)
            self.answer(request)


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)


@pytest.fixture
def system() -> FakeSystem:
    return FakeSystem()


@pytest.fixture
def control(system: FakeSystem) -> Iterator[ControlStandIn]:
    stand_in = ControlStandIn(system)
    yield stand_in
    stand_in.stop()


MakeServer = Callable[..., WebApiServer]


@pytest.fixture
def make_server(system: FakeSystem, control: ControlStandIn) -> MakeServer:
    """Servers (not started) of the fake system, whose commands the control
    stand-in takes unless ``on_command=...`` is given."""

    def make(**kwargs: Any) -> WebApiServer:
        kwargs.setdefault("system_status", system.provider)
        kwargs.setdefault("metrics", system.metrics.snapshot)
        if "on_command" in kwargs:
            return WebApiServer(**kwargs)
        server = WebApiServer(on_command=control.wake, **kwargs)
        control.serve(server)
        return server

    return make


@pytest.fixture
def server(make_server: MakeServer) -> WebApiServer:
    return make_server(max_queue_size=0)


def app_client(server: WebApiServer, **kwargs: Any) -> TestClient:
    """An in-process HTTP client of the server's application, as if from localhost."""
    kwargs.setdefault("base_url", "http://localhost:8391")
    return TestClient(server._app, **kwargs)


@pytest.fixture
def client(server: WebApiServer) -> Iterator[TestClient]:
    with app_client(server) as client:
        yield client


def in_process(web_api_client: WebApiClient, server: WebApiServer) -> WebApiClient:
    """``web_api_client``, sending its requests to ``server``'s application directly.

    Its headers (the access token) are kept.
    """
    headers = dict(web_api_client._client.headers)
    web_api_client._client.close()
    web_api_client._client = app_client(server, headers=headers)
    return web_api_client
