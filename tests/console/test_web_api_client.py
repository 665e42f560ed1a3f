from collections.abc import Callable, Iterator
from unittest import mock

import httpx
import pytest

from pamiq_core.console import ControlCommands, SystemStatus, WebApiClient
from pamiq_core.console.web_api import TOKEN_ENV_VAR

from .conftest import FakeSystem, StartServer, free_port


@pytest.fixture
def make_client() -> Iterator[Callable[..., WebApiClient]]:
    clients: list[WebApiClient] = []

    def make(*args: object, **kwargs: object) -> WebApiClient:
        client = WebApiClient(*args, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def port_of(start_server: StartServer, **kwargs: object) -> int:
    address = start_server(**kwargs).address
    assert address is not None
    return address[1]


class TestWithALiveServer:
    def test_reads_the_status(
        self,
        system: FakeSystem,
        start_server: StartServer,
        make_client: Callable[..., WebApiClient],
    ) -> None:
        port = port_of(start_server)
        client = make_client("localhost", port)
        assert (client.host, client.port) == ("localhost", port)
        assert client.get_status() is SystemStatus.ACTIVE
        system.controller.pause()
        assert client.get_status() is SystemStatus.PAUSING

    def test_commands_answer_ok_and_are_queued(
        self, start_server: StartServer, make_client: Callable[..., WebApiClient]
    ) -> None:
        server = start_server(max_queue_size=0)
        assert server.address is not None
        client = make_client("localhost", server.address[1])
        assert client.pause() == "ok"
        assert client.resume() == "ok"
        assert client.save_state() == "ok"
        assert client.shutdown() == "ok"
        received = [server.receive_command() for _ in range(4)]
        assert received == [
            ControlCommands.PAUSE,
            ControlCommands.RESUME,
            ControlCommands.SAVE_STATE,
            ControlCommands.SHUTDOWN,
        ]

    def test_a_full_queue_gives_none(
        self, start_server: StartServer, make_client: Callable[..., WebApiClient]
    ) -> None:
        client = make_client("localhost", port_of(start_server))
        assert client.pause() == "ok"
        assert client.pause() is None

    def test_sends_the_access_token(
        self, start_server: StartServer, make_client: Callable[..., WebApiClient]
    ) -> None:
        port = port_of(start_server, token="s3cret")
        assert make_client("localhost", port).get_status() is SystemStatus.OFFLINE
        assert make_client("localhost", port).pause() is None
        wrong = make_client("localhost", port, token="wrong")
        assert wrong.get_status() is SystemStatus.OFFLINE
        right = make_client("localhost", port, token="s3cret")
        assert right.get_status() is SystemStatus.ACTIVE
        assert right.pause() == "ok"

    def test_a_refused_token_is_told_apart_from_an_offline_system(
        self, start_server: StartServer, make_client: Callable[..., WebApiClient]
    ) -> None:
        client = make_client("localhost", port_of(start_server, token="s3cret"))
        assert client.last_error is None
        assert client.get_status() is SystemStatus.OFFLINE
        assert client.last_error is not None
        assert (
            "401 Unauthorized: the access token sent was missing" in client.last_error
        )
        assert TOKEN_ENV_VAR in client.last_error

    def test_last_error_gives_the_server_reason_and_clears_on_success(
        self, start_server: StartServer, make_client: Callable[..., WebApiClient]
    ) -> None:
        client = make_client("localhost", port_of(start_server))
        assert client.pause() == "ok"
        assert client.pause() is None
        assert client.last_error == (
            "the server answered 503: Command queue is full, try again later"
        )
        assert client.get_status() is SystemStatus.ACTIVE
        assert client.last_error is None

    def test_takes_the_token_from_the_environment(
        self,
        start_server: StartServer,
        make_client: Callable[..., WebApiClient],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        port = port_of(start_server, token="s3cret")
        monkeypatch.setenv(TOKEN_ENV_VAR, "s3cret")
        assert make_client("localhost", port).get_status() is SystemStatus.ACTIVE


class TestWithoutAServer:
    def test_offline_and_none(self, make_client: Callable[..., WebApiClient]) -> None:
        client = make_client("localhost", free_port())
        assert client.get_status() is SystemStatus.OFFLINE
        assert client.pause() is None
        assert client.resume() is None
        assert client.save_state() is None
        assert client.shutdown() is None
        assert client.get_metrics() is None
        assert client.last_error is not None
        assert client.last_error.startswith("no answer (")
        assert client.last_error.endswith("is the system running?")


def test_ipv6_hosts_are_bracketed_in_urls(
    make_client: Callable[..., WebApiClient],
) -> None:
    client = make_client("::1", 8391)
    assert client._base_url == "http://[::1]:8391/api"


def test_requests_pass_the_url_only(make_client: Callable[..., WebApiClient]) -> None:
    client = make_client("localhost", 8391)
    response = httpx.Response(
        200, text='{"status": 3}', request=httpx.Request("GET", "http://x")
    )
    with mock.patch.object(client._client, "get", return_value=response) as get:
        assert client.get_status() is SystemStatus.PAUSED
    get.assert_called_once_with("http://localhost:8391/api/status")


class TestGetMetrics:
    """``GET /api/metrics`` is served once the metrics registry exists; stubbed here."""

    def stub(
        self, client: WebApiClient, handler: Callable[..., httpx.Response]
    ) -> None:
        client._client = httpx.Client(transport=httpx.MockTransport(handler))

    def test_returns_the_json_body(
        self, make_client: Callable[..., WebApiClient]
    ) -> None:
        client = make_client("localhost", 8391)
        seen: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(f"{request.method} {request.url}")
            return httpx.Response(200, json={"steps_per_second": 10.0})

        self.stub(client, handler)
        assert client.get_metrics() == {"steps_per_second": 10.0}
        assert seen == ["GET http://localhost:8391/api/metrics"]

    def test_an_error_answer_gives_none(
        self, make_client: Callable[..., WebApiClient]
    ) -> None:
        client = make_client("localhost", 8391)
        self.stub(client, lambda request: httpx.Response(404, json={"error": "x"}))
        assert client.get_metrics() is None
