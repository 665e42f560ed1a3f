import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pamiq_core.console import SystemStatusProvider, WebApiServer
from pamiq_core.console.web_api import TOKEN_ENV_VAR
from pamiq_core.metrics import Metrics, RunStats, SyncStats
from pamiq_core.thread import ThreadController, ThreadStatus, ThreadStatusesMonitor
from pamiq_core.thread.thread_types import ThreadTypes


def free_port() -> int:
    """A port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex((host, port)) == 0


def can_bind(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a new server (which sets SO_REUSEADDR, as uvicorn does) could bind."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


class Buffer:
    """Stands in for a data buffer: a size and a capacity."""

    def __init__(self, size: int, max_size: int) -> None:
        self.size = size
        self.max_size = max_size

    def __len__(self) -> int:
        return self.size


def sample_metrics() -> Metrics:
    """Metrics with some of everything recorded."""
    metrics = Metrics()
    for step in range(50):
        metrics.inference_steps.tick(step * 0.01)
    trainer = RunStats()
    trainer.record(0.25, finished_at=1.0)
    model = SyncStats()
    model.training_version = 3
    model.record_sync(0.001)
    model.training_version = 4
    metrics.trainers = {"trainer": trainer, "idle": RunStats()}
    metrics.models = {"model": model}
    metrics.buffers = {"buffer": Buffer(30, 100)}
    metrics.system.start()
    metrics.system.record_save("/states/one.state")
    return metrics


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


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)


@pytest.fixture
def system() -> FakeSystem:
    return FakeSystem()


StartServer = Callable[..., WebApiServer]


@pytest.fixture
def start_server(system: FakeSystem) -> Iterator[StartServer]:
    """Start live servers on free ports; they are stopped after the test."""
    servers: list[WebApiServer] = []

    def start(**kwargs: Any) -> WebApiServer:
        kwargs.setdefault("port", 0)
        kwargs.setdefault("system_status", system.provider)
        kwargs.setdefault("metrics", system.metrics.snapshot)
        server = WebApiServer(**kwargs)
        servers.append(server)
        server.run_in_background()
        assert server.wait_for_startup(timeout=10)
        return server

    yield start
    for server in servers:
        assert server.stop(timeout=10)
