"""The control thread steered over HTTP, with real background threads."""

import inspect
import logging
import math
import socket
import time as std_time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from eventually import eventually
from pamiq_core import time
from pamiq_core.console import ControlCommands, SystemStatus, WebApiClient
from pamiq_core.console.web_api import TOKEN_ENV_VAR
from pamiq_core.state_persistence import StateStore
from pamiq_core.thread.threads import ControlThread

from .conftest import System


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV_VAR, raising=False)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "states")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def client(port: int) -> Iterator[WebApiClient]:
    client = WebApiClient("localhost", port)
    yield client
    client.close()


@pytest.fixture
def running(store: StateStore, port: int, client: WebApiClient) -> Iterator[System]:
    control = ControlThread(
        store, timeout_for_all_threads_pause=5.0, web_api_address=("localhost", port)
    )
    system = System(control).start()
    eventually(
        lambda: client.get_status() is not SystemStatus.OFFLINE, what="the web API"
    )
    yield system
    system.stop()


class TestConstruction:
    def test_web_api_parameters_follow_max_uptime(self) -> None:
        parameters = list(inspect.signature(ControlThread).parameters.values())
        names = [p.name for p in parameters]
        assert names[names.index("max_uptime") :] == [
            "max_uptime",
            "web_api_address",
            "web_api_command_queue_size",
            "web_api_token",
            "metrics",
            "max_failed_saves_in_a_row",
            "web_api_required",
            "events",
        ]
        defaults = {p.name: p.default for p in parameters}
        assert defaults["web_api_address"] == ("localhost", 8391)
        assert defaults["web_api_command_queue_size"] == 1
        assert defaults["web_api_token"] is None
        assert defaults["max_uptime"] == math.inf
        assert defaults["metrics"] is None
        kinds = {p.name: p.kind for p in parameters}
        assert kinds["metrics"] is inspect.Parameter.KEYWORD_ONLY

    def test_a_web_api_beyond_loopback_needs_a_token_from_the_start(
        self, store: StateStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with pytest.raises(ValueError, match="access token"):
            ControlThread(store, web_api_address=("0.0.0.0", 8391))
        ControlThread(store, web_api_address=("0.0.0.0", 8391), web_api_token="t")
        monkeypatch.setenv(TOKEN_ENV_VAR, "t")
        ControlThread(store, web_api_address=("0.0.0.0", 8391))


class TestDrivenOverHttp:
    def test_pause_and_resume(self, running: System, client: WebApiClient) -> None:
        assert client.get_status() is SystemStatus.ACTIVE
        assert client.pause() == "ok"  # answered once the pause is carried out
        assert client.get_status() is SystemStatus.PAUSED
        assert running.inference.thread_status.is_pause()
        assert running.training.thread_status.is_pause()
        assert time.is_paused()

        assert client.resume() == "ok"
        assert not time.is_paused()
        running.wait_until_both_step()
        assert client.get_status() is SystemStatus.ACTIVE

    def test_save_state(
        self, running: System, client: WebApiClient, store: StateStore
    ) -> None:
        assert client.save_state() == "ok"  # answered once the state is saved
        assert running.control.last_saved_state_path is not None
        assert running.control.last_saved_state_path.parent == store.states_dir
        running.wait_until_both_step()  # resumed after saving
        assert client.get_status() is SystemStatus.ACTIVE

    def test_shutdown_ends_the_run_and_frees_the_port(
        self, running: System, client: WebApiClient, port: int
    ) -> None:
        assert client.shutdown() == "ok"
        running.runner.join(timeout=10)
        assert not running.runner.is_alive()
        assert running.error is None
        for thread in (running.inference, running.training):
            thread.join(timeout=10)
            assert not thread.is_alive()
        assert not is_listening(port)
        assert client.get_status() is SystemStatus.OFFLINE

    def test_a_command_is_handled_at_once_not_at_the_next_tick(
        self, store: StateStore, port: int, client: WebApiClient
    ) -> None:
        control = ControlThread(store, web_api_address=("localhost", port))
        control.TICK_INTERVAL = 60.0  # type: ignore[misc]
        system = System(control).start()
        try:
            eventually(
                lambda: client.get_status() is SystemStatus.ACTIVE, what="the web API"
            )
            # "ok": carried out within the reply timeout, long before the next tick.
            assert client.pause() == "ok"
            assert client.get_status() is SystemStatus.PAUSED
        finally:
            system.stop()

    def test_with_a_token(self, store: StateStore, port: int) -> None:
        control = ControlThread(
            store, web_api_address=("localhost", port), web_api_token="s3cret"
        )
        system = System(control).start()
        stranger = WebApiClient("localhost", port)
        insider = WebApiClient("localhost", port, token="s3cret")
        try:
            eventually(
                lambda: insider.get_status() is SystemStatus.ACTIVE, what="the web API"
            )
            assert stranger.get_status() is SystemStatus.OFFLINE
            assert stranger.shutdown() is None
            assert insider.shutdown() == "ok"
            system.runner.join(timeout=10)
            assert not system.runner.is_alive()
        finally:
            stranger.close()
            insider.close()
            system.stop()


class TestMetrics:
    def test_served_from_the_given_provider(
        self, store: StateStore, port: int, client: WebApiClient
    ) -> None:
        control = ControlThread(
            store,
            web_api_address=("localhost", port),
            metrics=lambda: {"answer": 42},
        )
        system = System(control).start()
        try:
            eventually(lambda: client.get_metrics() is not None, what="the metrics")
            assert client.get_metrics() == {"answer": 42}
        finally:
            system.stop()

    def test_no_provider_no_metrics(
        self, running: System, client: WebApiClient
    ) -> None:
        assert client.get_status() is SystemStatus.ACTIVE
        assert client.get_metrics() is None

    def test_records_the_start_and_each_save(
        self, running: System, client: WebApiClient, store: StateStore
    ) -> None:
        stats = running.control.system_stats
        assert stats.started is not None
        assert stats.last_save is None
        assert client.save_state() == "ok"  # answered once the state is saved
        assert stats.last_save is not None
        assert stats.last_save[0] == str(running.control.last_saved_state_path)
        summary = stats.summary()
        uptime_real, last_save = summary["uptime_real"], summary["last_save"]
        assert uptime_real is not None
        assert uptime_real > 0
        assert last_save is not None
        assert last_save["path"] == stats.last_save[0]

    def test_system_status_is_what_the_api_reports(
        self, running: System, client: WebApiClient
    ) -> None:
        assert running.control.system_status() is SystemStatus.ACTIVE
        assert client.pause() == "ok"  # answered once the pause is carried out
        assert running.control.system_status() is SystemStatus.PAUSED
        assert client.get_status() is SystemStatus.PAUSED


class FakeServer:
    """Stands in for the web API server: hands out the given commands in order."""

    def __init__(self, *commands: ControlCommands) -> None:
        self.commands = list(commands)

    def has_commands(self) -> bool:
        return bool(self.commands)

    def receive_command(self) -> ControlCommands:
        return self.commands.pop(0)


class TestProcessingCommands:
    @pytest.fixture
    def control(self, store: StateStore) -> ControlThread:
        control = ControlThread(store, web_api_address=None)
        control.attach_thread_statuses({})
        return control

    def test_each_command_calls_its_method_in_order(
        self, control: ControlThread
    ) -> None:
        server = FakeServer(
            ControlCommands.PAUSE,
            ControlCommands.SAVE_STATE,
            ControlCommands.RESUME,
            ControlCommands.SHUTDOWN,
        )
        control._web_api_server = server  # type: ignore[assignment]
        calls = mock.Mock()
        with (
            mock.patch.object(control, "try_pause", calls.try_pause),
            mock.patch.object(control, "save_state", calls.save_state),
            mock.patch.object(control, "resume", calls.resume),
            mock.patch.object(control, "shutdown", calls.shutdown),
        ):
            control.process_received_web_api_commands()
        assert [c[0] for c in calls.mock_calls] == [
            "try_pause",
            "save_state",
            "resume",
            "shutdown",
        ]

    def test_shutdown_leaves_later_commands_unprocessed(
        self, control: ControlThread
    ) -> None:
        server = FakeServer(ControlCommands.SHUTDOWN, ControlCommands.PAUSE)
        control._web_api_server = server  # type: ignore[assignment]
        with mock.patch.object(control, "try_pause") as try_pause:
            control.process_received_web_api_commands()
        try_pause.assert_not_called()
        assert server.commands == [ControlCommands.PAUSE]
        assert not control.is_running()

    def test_nothing_happens_without_a_web_api(self, control: ControlThread) -> None:
        control.process_received_web_api_commands()
        assert control.is_running()


class TestLifetime:
    def test_a_short_run_is_not_slowed_down_and_releases_the_port(
        self, store: StateStore, port: int
    ) -> None:
        control = ControlThread(
            store, max_uptime=0.1, web_api_address=("localhost", port)
        )
        system = System(control)
        started = std_time.perf_counter()
        system.start().runner.join(timeout=10)
        elapsed = std_time.perf_counter() - started
        assert 0.1 < elapsed < 2.0  # about 0.1 s in practice; generous when loaded
        assert not is_listening(port)
        for thread in (system.inference, system.training):
            thread.join(timeout=10)

    def test_the_port_is_free_for_the_next_run_in_the_same_process(
        self, store: StateStore, port: int, client: WebApiClient
    ) -> None:
        for _ in range(2):
            control = ControlThread(store, web_api_address=("localhost", port))
            system = System(control).start()
            try:
                eventually(
                    lambda: client.get_status() is SystemStatus.ACTIVE,
                    what="the web API",
                )
            finally:
                system.stop()
            assert not is_listening(port)

    def test_a_busy_port_stops_the_control_thread_with_an_error_naming_it(
        self, store: StateStore
    ) -> None:
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            control = ControlThread(store, web_api_address=("localhost", port))
            system = System(control)
            system.start().runner.join(timeout=20)
        assert not system.runner.is_alive()
        assert isinstance(system.error, OSError)
        assert f"localhost:{port}" in str(system.error)
        for thread in (system.inference, system.training):
            thread.join(timeout=10)

    def test_a_busy_port_is_only_a_warning_when_the_api_is_not_required(
        self, store: StateStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            control = ControlThread(
                store,
                max_uptime=0.5,
                web_api_address=("localhost", port),
                web_api_required=False,
            )
            system = System(control)
            with caplog.at_level(logging.WARNING):
                system.start().runner.join(timeout=20)
        assert not system.runner.is_alive()
        assert system.error is None
        assert f"localhost:{port}" in caplog.text
        for thread in (system.inference, system.training):
            thread.join(timeout=10)

    def test_the_server_stops_when_the_control_thread_fails(
        self, store: StateStore, port: int
    ) -> None:
        def broken_condition() -> bool:
            raise OSError("cannot decide")

        control = ControlThread(
            store,
            save_state_condition=broken_condition,
            web_api_address=("localhost", port),
        )
        system = System(control).start()
        system.runner.join(timeout=10)
        assert isinstance(system.error, OSError)
        assert not is_listening(port)
        for thread in (system.inference, system.training):
            thread.join(timeout=10)
