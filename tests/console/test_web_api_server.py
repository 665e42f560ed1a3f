import base64
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any
from unittest import mock

import httpx
import pytest

from pamiq_core.console import ControlCommands, SystemStatus, WebApiServer
from pamiq_core.console.web_api import (
    ERROR_FORBIDDEN,
    ERROR_INTERNAL_SERVER,
    ERROR_INVALID_ENDPOINT,
    ERROR_INVALID_METHOD,
    ERROR_QUEUE_FULL,
    ERROR_UNAUTHORIZED,
    RESULT_OK,
    TOKEN_ENV_VAR,
)

from .conftest import FakeSystem, StartServer, can_bind, free_port, is_listening
from .openapi_check import schema_validator

COMMAND_PATHS = {
    "/api/pause": ControlCommands.PAUSE,
    "/api/resume": ControlCommands.RESUME,
    "/api/shutdown": ControlCommands.SHUTDOWN,
    "/api/save-state": ControlCommands.SAVE_STATE,
}
ENDPOINTS = [
    ("GET", "/"),
    ("GET", "/api/status"),
    ("GET", "/api/metrics"),
    ("GET", "/openapi.json"),
] + [("POST", path) for path in COMMAND_PATHS]


def drain(server: WebApiServer) -> list[ControlCommands]:
    commands: list[ControlCommands] = []
    while server.has_commands():
        commands.append(server.receive_command())
    return commands


def client_for(server: WebApiServer, **kwargs: Any) -> httpx.Client:
    """An HTTP client for a live server."""
    assert server.address is not None
    base_url = f"http://localhost:{server.address[1]}"
    return httpx.Client(base_url=base_url, **kwargs)


@pytest.fixture
def server(start_server: StartServer) -> WebApiServer:
    return start_server(max_queue_size=0)


@pytest.fixture
def client(server: WebApiServer) -> Iterator[httpx.Client]:
    with client_for(server) as client:
        yield client


def test_constants_have_the_specified_values() -> None:
    assert RESULT_OK == {"result": "ok"}
    assert ERROR_QUEUE_FULL == {"error": "Command queue is full, try again later"}
    assert ERROR_INVALID_ENDPOINT == {"error": "Invalid API endpoint"}
    assert ERROR_INVALID_METHOD == {"error": "Invalid API method"}
    assert ERROR_INTERNAL_SERVER == {"error": "Internal server error"}
    assert [(c.name, c.value) for c in ControlCommands] == [
        ("SHUTDOWN", 1),
        ("PAUSE", 2),
        ("RESUME", 3),
        ("SAVE_STATE", 4),
    ]
    assert WebApiServer.DEFAULT_QUEUE_SIZE == 1


class TestStatus:
    def test_answers_the_integer_value_of_the_status(
        self, system: FakeSystem, client: httpx.Client
    ) -> None:
        response = client.get("/api/status")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"status": SystemStatus.ACTIVE.value}
        system.controller.pause()
        assert client.get("/api/status").json() == {"status": 2}
        system.controller.shutdown()
        assert client.get("/api/status").json() == {"status": 5}

    def test_head_is_answered_like_get(self, client: httpx.Client) -> None:
        assert client.head("/api/status").status_code == 200

    def test_a_failing_provider_gives_500_and_is_logged(
        self,
        system: FakeSystem,
        start_server: StartServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        provider = mock.Mock(spec=system.provider)
        provider.get_current_status.side_effect = RuntimeError("broken")
        with client_for(start_server(system_status=provider)) as client:
            response = client.get("/api/status")
        assert response.status_code == 500
        assert response.json() == ERROR_INTERNAL_SERVER
        assert "Failed to get the system status" in caplog.text


class TestCommands:
    @pytest.mark.parametrize(("path", "command"), COMMAND_PATHS.items())
    def test_queues_the_command(
        self,
        server: WebApiServer,
        client: httpx.Client,
        path: str,
        command: ControlCommands,
    ) -> None:
        assert not server.has_commands()
        response = client.post(path)
        assert response.status_code == 200
        assert response.json() == RESULT_OK
        assert server.has_commands()
        assert server.receive_command() is command
        assert not server.has_commands()

    def test_commands_come_out_in_order(
        self, server: WebApiServer, client: httpx.Client
    ) -> None:
        for path in ["/api/pause", "/api/save-state", "/api/resume", "/api/shutdown"]:
            client.post(path)
        assert drain(server) == [
            ControlCommands.PAUSE,
            ControlCommands.SAVE_STATE,
            ControlCommands.RESUME,
            ControlCommands.SHUTDOWN,
        ]

    def test_request_bodies_are_ignored(
        self, server: WebApiServer, client: httpx.Client
    ) -> None:
        response = client.post("/api/pause", content=b"\x00not json")
        assert response.json() == RESULT_OK
        assert drain(server) == [ControlCommands.PAUSE]

    def test_a_full_queue_refuses_without_evicting(
        self, start_server: StartServer
    ) -> None:
        server = start_server()  # DEFAULT_QUEUE_SIZE: 1
        with client_for(server) as client:
            assert client.post("/api/pause").status_code == 200
            response = client.post("/api/shutdown")
        assert response.status_code == 503
        assert response.json() == ERROR_QUEUE_FULL
        assert drain(server) == [ControlCommands.PAUSE]

    def test_a_queue_size_of_zero_is_unbounded(
        self, server: WebApiServer, client: httpx.Client
    ) -> None:
        for _ in range(50):
            assert client.post("/api/pause").status_code == 200
        assert len(drain(server)) == 50

    def test_receiving_from_an_empty_queue_raises(self, server: WebApiServer) -> None:
        with pytest.raises(queue.Empty):
            server.receive_command()

    def test_tells_the_control_thread_after_queueing(
        self, start_server: StartServer
    ) -> None:
        seen: list[bool] = []
        server = start_server(on_command=lambda: seen.append(server.has_commands()))
        with client_for(server) as client:
            client.post("/api/pause")
            client.post("/api/pause")  # refused: not notified
            client.get("/api/status")
        assert seen == [True]

    def test_a_failing_notification_still_queues(
        self, start_server: StartServer
    ) -> None:
        def broken() -> None:
            raise RuntimeError("no")

        server = start_server(on_command=broken)
        with client_for(server) as client:
            assert client.post("/api/pause").json() == RESULT_OK
        assert drain(server) == [ControlCommands.PAUSE]


class TestErrors:
    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
    @pytest.mark.parametrize("path", ["/api", "/api/unknown", "/status", "/metrics"])
    def test_unknown_paths_are_404(
        self, client: httpx.Client, method: str, path: str
    ) -> None:
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json() == ERROR_INVALID_ENDPOINT

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("POST", "/api/status"),
            ("DELETE", "/api/status"),
            ("GET", "/api/pause"),
            ("HEAD", "/api/pause"),
            ("PUT", "/api/resume"),
            ("GET", "/api/save-state"),
            ("OPTIONS", "/api/shutdown"),
            ("POST", "/openapi.json"),
            ("POST", "/api/metrics"),
            ("POST", "/"),
            ("DELETE", "/"),
        ],
    )
    def test_known_paths_with_another_method_are_405_without_allow(
        self, server: WebApiServer, client: httpx.Client, method: str, path: str
    ) -> None:
        response = client.request(method, path)
        assert response.status_code == 405
        assert "allow" not in response.headers
        if method != "HEAD":
            assert response.json() == ERROR_INVALID_METHOD
        assert not server.has_commands()

    def test_a_trailing_slash_redirects(self, client: httpx.Client) -> None:
        response = client.get("/api/status/", follow_redirects=False)
        assert response.is_redirect
        assert response.headers["location"].endswith("/api/status")


class TestOpenApiSchema:
    def test_describes_every_endpoint(self, client: httpx.Client) -> None:
        schema = client.get("/openapi.json").json()
        assert schema["openapi"].startswith("3.")
        described = {
            (method.upper(), path)
            for path, operations in schema["paths"].items()
            for method in operations
        }
        assert described == set(ENDPOINTS)
        for path in COMMAND_PATHS:
            responses = schema["paths"][path]["post"]["responses"]
            assert {"200", "503"} <= set(responses)
        assert "security" not in schema

    def test_describes_the_metrics_answer(self, client: httpx.Client) -> None:
        schema = client.get("/openapi.json").json()
        ok = schema["paths"]["/api/metrics"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Metrics"
        }
        validator = schema_validator(schema, "Metrics")
        validator.validate(client.get("/api/metrics").json())
        assert not validator.is_valid({"system": {}})

    def test_leaves_out_metrics_when_there_are_none(
        self, start_server: StartServer
    ) -> None:
        with client_for(start_server(metrics=None)) as client:
            schema = client.get("/openapi.json").json()
        assert "/api/metrics" not in schema["paths"]
        assert "Metrics" not in schema["components"]["schemas"]
        assert "/" in schema["paths"]

    def test_declares_bearer_authentication_when_a_token_is_required(
        self, start_server: StartServer
    ) -> None:
        server = start_server(token="s3cret")
        with client_for(server, headers={"Authorization": "Bearer s3cret"}) as client:
            schema = client.get("/openapi.json").json()
        assert schema["security"] == [{"bearerAuth": []}]
        assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == (
            "bearer"
        )
        assert "401" in schema["paths"]["/api/pause"]["post"]["responses"]
        assert "401" in schema["paths"]["/api/metrics"]["get"]["responses"]
        assert "401" in schema["paths"]["/"]["get"]["responses"]


class TestMetrics:
    def test_serves_the_snapshot_as_json(
        self, system: FakeSystem, client: httpx.Client
    ) -> None:
        response = client.get("/api/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["system"]["status"] == SystemStatus.ACTIVE.value
        assert body["system"]["status_name"] == "active"
        assert body["system"]["last_save"]["path"] == "/states/one.state"
        assert body["inference"]["steps"] == 50
        assert body["trainers"]["trainer"]["runs"] == 1
        assert body["trainers"]["idle"]["last_duration"] is None
        assert body["models"]["model"]["versions_behind"] == 1
        assert body["buffers"] == {"buffer": {"size": 30, "capacity": 100}}

    def test_follows_the_system(self, system: FakeSystem, client: httpx.Client) -> None:
        system.controller.pause()
        system.inference.pause()
        system.training.pause()
        system.metrics.inference_steps.tick(1.0)
        body = client.get("/api/metrics").json()
        assert body["system"]["status_name"] == "paused"
        assert body["inference"]["steps"] == 51

    def test_head_is_answered_like_get(self, client: httpx.Client) -> None:
        response = client.head("/api/metrics")
        assert response.status_code == 200
        assert response.content == b""

    def test_a_failing_provider_gives_500_and_is_logged(
        self, start_server: StartServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken() -> dict[str, Any]:
            raise RuntimeError("cannot measure")

        with client_for(start_server(metrics=broken)) as client:
            response = client.get("/api/metrics")
        assert response.status_code == 500
        assert response.json() == ERROR_INTERNAL_SERVER
        assert "Failed to collect the metrics." in caplog.text

    def test_values_that_are_not_json_give_500(self, start_server: StartServer) -> None:
        server = start_server(metrics=lambda: {"x": float("nan")})
        with client_for(server) as client:
            assert client.get("/api/metrics").status_code == 500

    def test_without_metrics_the_path_is_unknown(
        self, start_server: StartServer
    ) -> None:
        with client_for(start_server(metrics=None)) as client:
            response = client.get("/api/metrics")
        assert response.status_code == 404
        assert response.json() == ERROR_INVALID_ENDPOINT


class TestDashboard:
    def test_is_an_html_page(self, client: httpx.Client) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = response.text
        assert page.startswith("<!doctype html>")
        for element in ('id="status"', 'id="pause"', 'id="resume"', 'id="save"'):
            assert element in page
        for path in ("api/status", "api/metrics", "api/pause", "api/resume"):
            assert f'"{path}"' in page

    def test_refers_to_no_other_site(self, client: httpx.Client) -> None:
        page = client.get("/").text
        assert "http://" not in page
        assert "https://" not in page
        assert not re.search(r"""(src|href)\s*=\s*["']?//""", page)
        assert "<link" not in page.replace('<link rel="icon" href="data:,">', "")

    def test_sends_a_token_when_opened_with_one(self, client: httpx.Client) -> None:
        page = client.get("/").text
        assert 'URLSearchParams(window.location.search).get("token")' in page
        assert '"Bearer " + token' in page

    def test_allows_only_its_own_script_and_style(self, client: httpx.Client) -> None:
        response = client.get("/")
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'"
        assert policy["connect-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"
        scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
        assert len(scripts) == 1
        digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest())
        assert policy["script-src"] == f"'sha256-{digest.decode()}'"
        assert "unsafe" not in response.headers["content-security-policy"]

    def test_is_served_without_metrics_too(self, start_server: StartServer) -> None:
        with client_for(start_server(metrics=None)) as client:
            assert client.get("/").status_code == 200

    def test_ships_inside_the_package(self) -> None:
        page = resources.files("pamiq_core.console").joinpath("dashboard.html")
        assert page.is_file()


class TestAccessToken:
    @pytest.fixture
    def server(self, start_server: StartServer) -> WebApiServer:
        return start_server(token="s3cret", max_queue_size=0)

    @pytest.mark.parametrize(("method", "path"), [*ENDPOINTS, ("GET", "/unknown")])
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}],
        ids=["missing", "wrong", "not-bearer"],
    )
    def test_requests_without_the_token_are_refused(
        self,
        server: WebApiServer,
        method: str,
        path: str,
        headers: dict[str, str],
    ) -> None:
        with client_for(server) as client:
            response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == ERROR_UNAUTHORIZED
        assert response.headers["www-authenticate"] == "Bearer"
        assert not server.has_commands()

    @pytest.mark.parametrize(("method", "path"), ENDPOINTS)
    def test_requests_with_the_token_are_served(
        self, server: WebApiServer, method: str, path: str
    ) -> None:
        with client_for(server, headers={"Authorization": "Bearer s3cret"}) as client:
            assert client.request(method, path).status_code == 200
        with client_for(server) as client:
            response = client.request(method, path, params={"token": "s3cret"})
            assert response.status_code == 200

    def test_a_token_comes_from_the_environment(
        self, start_server: StartServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, "from-env")
        with client_for(start_server()) as client:
            assert client.get("/api/status").status_code == 401
            headers = {"Authorization": "Bearer from-env"}
            assert client.get("/api/status", headers=headers).status_code == 200

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.0.2", "example.com"])
    def test_other_hosts_than_loopback_need_a_token(
        self, system: FakeSystem, host: str
    ) -> None:
        with pytest.raises(ValueError, match=TOKEN_ENV_VAR):
            WebApiServer(system.provider, host=host)
        WebApiServer(system.provider, host=host, token="s3cret")


class TestBrowserProtection:
    def test_cross_site_requests_are_refused(
        self, server: WebApiServer, client: httpx.Client
    ) -> None:
        response = client.post(
            "/api/shutdown", headers={"Origin": "http://evil.example"}
        )
        assert response.status_code == 403
        assert response.json() == ERROR_FORBIDDEN
        assert not server.has_commands()

    @pytest.mark.parametrize(("method", "path"), ENDPOINTS)
    def test_foreign_host_names_are_refused(
        self, server: WebApiServer, client: httpx.Client, method: str, path: str
    ) -> None:
        # DNS rebinding: a page of evil.example, whose name now points at 127.0.0.1
        headers = {"Host": "evil.example:8391"}
        response = client.request(method, path, headers=headers)
        assert response.status_code == 403
        assert response.json() == ERROR_FORBIDDEN
        assert not server.has_commands()

    def test_same_origin_requests_are_served(
        self, server: WebApiServer, client: httpx.Client
    ) -> None:
        assert server.address is not None
        headers = {"Origin": f"http://localhost:{server.address[1]}"}
        assert client.post("/api/pause", headers=headers).status_code == 200


class TestConstruction:
    @pytest.mark.parametrize("port", [-1, 65536])
    def test_ports_out_of_range_are_refused(
        self, system: FakeSystem, port: int
    ) -> None:
        with pytest.raises(ValueError, match="port"):
            WebApiServer(system.provider, port=port)

    def test_nothing_listens_before_it_is_started(self, system: FakeSystem) -> None:
        port = free_port()
        server = WebApiServer(system.provider, port=port)
        assert server.address is None
        assert not is_listening(port)
        assert server.stop()  # stopping a server that never started is fine


class TestLifetime:
    def test_serves_from_a_daemon_thread_named_webapi(
        self, start_server: StartServer
    ) -> None:
        server = start_server()
        threads = [t for t in threading.enumerate() if t.name == "webapi"]
        assert threads
        assert all(t.daemon for t in threads)
        assert server.address is not None
        host, port = server.address
        assert host == "localhost"
        response = httpx.get(f"http://localhost:{port}/api/status")
        assert response.json() == {"status": 1}

    def test_starting_returns_at_once(self, system: FakeSystem) -> None:
        server = WebApiServer(system.provider, port=0)
        started = time.perf_counter()
        server.run_in_background()
        elapsed = time.perf_counter() - started
        try:
            assert elapsed < 0.5  # binding and importing happen on the server thread
            assert server.wait_for_startup(timeout=10)
        finally:
            server.stop()

    def test_stop_releases_the_port_for_another_server(
        self, system: FakeSystem, start_server: StartServer
    ) -> None:
        first = start_server()
        assert first.address is not None
        port = first.address[1]
        with httpx.Client() as keep_alive:  # an open connection must not hold it up
            keep_alive.get(f"http://localhost:{port}/api/status")
            assert first.stop(timeout=10)
        assert first.address is None
        assert not is_listening(port)
        assert can_bind(port)
        second = start_server(port=port)
        assert second.address == ("localhost", port)
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_a_stopped_server_can_start_again(self, start_server: StartServer) -> None:
        port = free_port()
        server = start_server(port=port)
        assert server.stop(timeout=10)
        server.run_in_background()
        assert server.wait_for_startup(timeout=10)
        assert server.address == ("localhost", port)
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_stop_right_after_start_leaves_nothing_listening(
        self, system: FakeSystem
    ) -> None:
        port = free_port()
        server = WebApiServer(system.provider, port=port)
        server.run_in_background()
        assert server.stop(timeout=10)
        server._thread.join(timeout=10)
        assert not server._thread.is_alive()
        assert not is_listening(port)

    def test_stop_is_repeatable(self, start_server: StartServer) -> None:
        server = start_server()
        assert server.stop(timeout=10)
        assert server.stop(timeout=10)

    def test_a_busy_port_is_logged_and_the_caller_goes_on(
        self,
        system: FakeSystem,
        start_server: StartServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        busy = start_server()
        assert busy.address is not None
        port = busy.address[1]
        second = WebApiServer(system.provider, port=port)
        with caplog.at_level(logging.ERROR):
            second.run_in_background()
            assert not second.wait_for_startup(timeout=10)
            second._thread.join(timeout=10)
        assert not second._thread.is_alive()
        assert f"localhost:{port}" in caplog.text
        assert "without a web API" in caplog.text
        assert second.address is None
        assert second.stop()
