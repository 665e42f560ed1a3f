from collections.abc import Callable, Iterator
from unittest import mock

import httpx
import pytest

from pamiq_core.console import ControlCommands, SystemStatus, WebApiClient
from pamiq_core.console.web_api import TOKEN_ENV_VAR

from .conftest import ControlStandIn, FakeSystem, MakeServer, free_port, in_process

MakeClient = Callable[..., WebApiClient]


@pytest.fixture
def make_client(make_server: MakeServer) -> Iterator[MakeClient]:
    """Clients of an in-process server made with ``server_options`` (``None``: for
    an address nothing listens on)."""
    clients: list[WebApiClient] = []

    def make(
        *args: object,
        server_options: dict[str, object] | None = None,
        **kwargs: object,
    ) -> WebApiClient:
        client = WebApiClient(*args, **kwargs)  # type: ignore[arg-type]
        if server_options is not None:
            in_process(client, make_server(**server_options))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class TestAgainstTheApi:
    def test_reads_the_status(
        self, system: FakeSystem, make_client: MakeClient
    ) -> None:
        client = make_client("localhost", 8391, server_options={})
        assert (client.host, client.port) == ("localhost", 8391)
        assert client.get_status() is SystemStatus.ACTIVE
        system.controller.pause()
        assert client.get_status() is SystemStatus.PAUSING

    def test_commands_answer_ok_once_carried_out(
        self, control: ControlStandIn, make_client: MakeClient
    ) -> None:
        client = make_client("localhost", 8391, server_options={})
        assert client.pause() == "ok"
        assert client.resume() == "ok"
        assert client.save_state() == "ok"
        assert client.shutdown() == "ok"
        assert control.commands() == [
            ControlCommands.PAUSE,
            ControlCommands.RESUME,
            ControlCommands.SAVE_STATE,
            ControlCommands.SHUTDOWN,
        ]

    def test_a_failed_save_gives_none_and_the_servers_reason(
        self, control: ControlStandIn, make_client: MakeClient
    ) -> None:
        control.answer = lambda request: request.fail(
            "Saving /states/x.state failed: [Errno 28] No space left on device"
        )
        client = make_client("localhost", 8391, server_options={})
        assert client.save_state() is None
        assert client.last_error == (
            "the server answered 500: Saving /states/x.state failed: [Errno 28] "
            "No space left on device"
        )
        control.answer = lambda request: request.succeed()
        assert client.save_state() == "ok"
        assert client.last_error is None

    def test_a_command_still_running_is_accepted(
        self, control: ControlStandIn, make_client: MakeClient
    ) -> None:
        control.answer = lambda request: None  # never answered in time
        client = make_client("localhost", 8391, server_options={"reply_timeout": 0.01})
        assert client.save_state() == "accepted"

    def test_a_full_queue_gives_none_and_says_so(self, make_client: MakeClient) -> None:
        options: dict[str, object] = {"on_command": lambda: None, "reply_timeout": 0}
        client = make_client("localhost", 8391, server_options=options)
        assert client.pause() == "accepted"
        assert client.pause() is None
        assert client.last_error == (
            "the server answered 503: Command queue is full, try again later"
        )
        assert client.get_status() is SystemStatus.ACTIVE
        assert client.last_error is None

    def test_sends_the_access_token(self, make_client: MakeClient) -> None:
        options = {"token": "s3cret"}
        anonymous = make_client("localhost", 1, server_options=options)
        assert anonymous.get_status() is SystemStatus.OFFLINE
        assert anonymous.pause() is None
        wrong = make_client("localhost", 1, token="wrong", server_options=options)
        assert wrong.get_status() is SystemStatus.OFFLINE
        right = make_client("localhost", 1, token="s3cret", server_options=options)
        assert right.get_status() is SystemStatus.ACTIVE
        assert right.pause() == "ok"

    def test_a_token_with_surrounding_whitespace_is_sent_without_it(
        self, make_client: MakeClient
    ) -> None:
        client = make_client(
            "localhost", 1, token=" s3cret\n", server_options={"token": "s3cret"}
        )
        assert client.get_status() is SystemStatus.ACTIVE

    def test_a_blank_token_is_refused(self) -> None:
        with pytest.raises(ValueError, match="blank"):
            WebApiClient("localhost", 1, token=" ")

    def test_a_refused_token_is_told_apart_from_an_offline_system(
        self, make_client: MakeClient
    ) -> None:
        client = make_client("localhost", 1, server_options={"token": "s3cret"})
        assert client.last_error is None
        assert client.get_status() is SystemStatus.OFFLINE
        assert client.last_error is not None
        assert (
            "401 Unauthorized: the access token sent was missing" in client.last_error
        )
        assert TOKEN_ENV_VAR in client.last_error

    def test_takes_the_token_from_the_environment(
        self, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, "s3cret")
        client = make_client("localhost", 1, server_options={"token": "s3cret"})
        assert client.get_status() is SystemStatus.ACTIVE

    def test_reads_the_metrics(self, make_client: MakeClient) -> None:
        client = make_client("localhost", 1, server_options={})
        metrics = client.get_metrics()
        assert metrics is not None
        assert metrics["inference"]["steps"] == 50
        without = make_client("localhost", 1, server_options={"metrics": None})
        assert without.get_metrics() is None
        assert without.last_error == "the server answered 404: Invalid API endpoint"


class TestWithoutAServer:
    def test_offline_and_none(self, make_client: MakeClient) -> None:
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


def test_ipv6_hosts_are_bracketed_in_urls(make_client: MakeClient) -> None:
    client = make_client("::1", 8391)
    assert client._base_url == "http://[::1]:8391/api"


def test_requests_pass_the_url_only(make_client: MakeClient) -> None:
    client = make_client("localhost", 8391)
    response = httpx.Response(
        200, text='{"status": 3}', request=httpx.Request("GET", "http://x")
    )
    with mock.patch.object(client._client, "get", return_value=response) as get:
        assert client.get_status() is SystemStatus.PAUSED
    get.assert_called_once_with("http://localhost:8391/api/status")
