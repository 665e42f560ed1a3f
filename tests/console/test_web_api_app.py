"""The web API's routes, driven in-process through the server's application."""

import base64
import hashlib
import queue
import re
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources
from typing import Any
from unittest import mock

import httpx
import pytest

from eventually import eventually
from pamiq_core.console import ControlCommands, SystemStatus, WebApiServer
from pamiq_core.console.web_api import (
    ERROR_FORBIDDEN,
    ERROR_INTERNAL_SERVER,
    ERROR_INVALID_ENDPOINT,
    ERROR_INVALID_METHOD,
    ERROR_QUEUE_FULL,
    ERROR_UNAUTHORIZED,
    RESULT_ACCEPTED,
    RESULT_OK,
    TOKEN_ENV_VAR,
    CommandRequest,
)

from .conftest import (
    ControlStandIn,
    FakeSystem,
    MakeServer,
    app_client,
    sample_scalars,
)

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


def unanswered(make_server: MakeServer, **kwargs: Any) -> WebApiServer:
    """A server whose commands nobody takes unless the test does."""
    kwargs.setdefault("on_command", lambda: None)
    return make_server(**kwargs)


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
        make_server: MakeServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        provider = mock.Mock(spec=system.provider)
        provider.get_current_status.side_effect = RuntimeError("broken")
        with app_client(make_server(system_status=provider)) as client:
            response = client.get("/api/status")
        assert response.status_code == 500
        assert response.json() == ERROR_INTERNAL_SERVER
        assert "Failed to get the system status" in caplog.text


class TestCommands:
    @pytest.mark.parametrize(("path", "command"), COMMAND_PATHS.items())
    def test_the_control_thread_gets_the_command_and_its_answer_is_sent(
        self,
        control: ControlStandIn,
        client: httpx.Client,
        path: str,
        command: ControlCommands,
    ) -> None:
        response = client.post(path)
        assert response.status_code == 200
        assert response.json() == RESULT_OK
        assert control.commands() == [command]

    def test_commands_come_out_in_order(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        for path in ["/api/pause", "/api/save-state", "/api/resume", "/api/shutdown"]:
            client.post(path)
        assert control.commands() == [
            ControlCommands.PAUSE,
            ControlCommands.SAVE_STATE,
            ControlCommands.RESUME,
            ControlCommands.SHUTDOWN,
        ]

    def test_request_bodies_are_ignored(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        response = client.post("/api/pause", content=b"\x00not json")
        assert response.json() == RESULT_OK
        assert control.commands() == [ControlCommands.PAUSE]

    def test_a_failed_command_is_answered_with_the_reason(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        reason = "Saving to /states/x.state failed: [Errno 28] No space left"
        control.answer = lambda request: request.fail(reason)
        response = client.post("/api/save-state")
        assert response.status_code == 500
        assert response.json() == {"error": reason}

    def test_a_failure_may_choose_its_status(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        control.answer = lambda request: request.fail("Not paused", 409)
        response = client.post("/api/resume")
        assert response.status_code == 409
        assert response.json() == {"error": "Not paused"}

    def test_a_success_may_add_details_but_not_change_the_result(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        control.answer = lambda request: request.succeed(
            {"path": "/states/x.state", "result": "not this"}
        )
        response = client.post("/api/save-state")
        assert response.status_code == 200
        assert response.json() == {"result": "ok", "path": "/states/x.state"}

    def test_no_answer_in_time_is_accepted_and_a_late_answer_is_ignored(
        self, make_server: MakeServer, control: ControlStandIn
    ) -> None:
        late: list[CommandRequest] = []
        control.answer = late.append
        server = make_server(reply_timeout=0.05)
        with app_client(server) as client:
            response = client.post("/api/save-state")
            assert response.status_code == 202
            assert response.json() == RESULT_ACCEPTED
            assert late[0].command is ControlCommands.SAVE_STATE
            late[0].succeed()  # nobody waits: nothing happens
            control.answer = lambda request: request.succeed()
            assert client.post("/api/pause").json() == RESULT_OK

    def test_receive_command_answers_ok_at_once(self, make_server: MakeServer) -> None:
        server = unanswered(make_server)
        with app_client(server) as client, ThreadPoolExecutor(1) as pool:
            posted = pool.submit(client.post, "/api/pause")
            eventually(server.has_commands, what="the command to be queued")
            assert server.receive_command() is ControlCommands.PAUSE
            response = posted.result(timeout=20)
        assert response.status_code == 200
        assert response.json() == RESULT_OK
        assert not server.has_commands()

    def test_a_full_queue_refuses_without_evicting(
        self, make_server: MakeServer
    ) -> None:
        server = unanswered(make_server, reply_timeout=0)  # DEFAULT_QUEUE_SIZE: 1
        with app_client(server) as client:
            assert client.post("/api/pause").status_code == 202
            response = client.post("/api/shutdown")
        assert response.status_code == 503
        assert response.json() == ERROR_QUEUE_FULL
        assert server.receive_command() is ControlCommands.PAUSE
        assert not server.has_commands()

    def test_a_queue_size_of_zero_is_unbounded(self, make_server: MakeServer) -> None:
        server = unanswered(make_server, max_queue_size=0, reply_timeout=0)
        with app_client(server) as client:
            for _ in range(50):
                assert client.post("/api/pause").status_code == 202
        taken = 0
        while server.has_commands():
            server.receive_request().succeed()
            taken += 1
        assert taken == 50

    def test_receiving_from_an_empty_queue_raises(self, server: WebApiServer) -> None:
        with pytest.raises(queue.Empty):
            server.receive_command()
        with pytest.raises(queue.Empty):
            server.receive_request()

    def test_tells_the_control_thread_after_queueing(
        self, make_server: MakeServer
    ) -> None:
        seen: list[bool] = []
        server = make_server(
            on_command=lambda: seen.append(server.has_commands()), reply_timeout=0
        )
        with app_client(server) as client:
            client.post("/api/pause")
            client.post("/api/pause")  # refused: not notified
            client.get("/api/status")
        assert seen == [True]

    def test_a_failing_notification_still_queues(
        self, make_server: MakeServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken() -> None:
            raise RuntimeError("no")

        server = make_server(on_command=broken, reply_timeout=0)
        with app_client(server) as client:
            assert client.post("/api/pause").status_code == 202
        assert server.receive_command() is ControlCommands.PAUSE
        assert "The command notification failed." in caplog.text

    def test_stopping_answers_waiting_and_later_commands_with_503(
        self, make_server: MakeServer
    ) -> None:
        server = unanswered(make_server)
        with app_client(server) as client, ThreadPoolExecutor(1) as pool:
            waiting: Future[httpx.Response] = pool.submit(client.post, "/api/pause")
            eventually(server.has_commands, what="the command to be queued")
            server.request_stop()
            refused = waiting.result(timeout=20)
            later = client.post("/api/resume")
        for response in (refused, later):
            assert response.status_code == 503
            assert (
                "stopped before the command was carried out"
                in (response.json()["error"])
            )
        assert not server.has_commands()


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
        self,
        control: ControlStandIn,
        client: httpx.Client,
        method: str,
        path: str,
    ) -> None:
        response = client.request(method, path)
        assert response.status_code == 405
        assert "allow" not in response.headers
        if method != "HEAD":
            assert response.json() == ERROR_INVALID_METHOD
        assert control.commands() == []

    def test_a_trailing_slash_redirects(self, client: httpx.Client) -> None:
        response = client.get("/api/status/", follow_redirects=False)
        assert response.is_redirect
        assert response.headers["location"].endswith("/api/status")


class TestMetrics:
    def test_serves_the_snapshot_as_json(self, client: httpx.Client) -> None:
        response = client.get("/api/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["system"]["status"] == SystemStatus.ACTIVE.value
        assert body["system"]["status_name"] == "active"
        assert body["system"]["last_save"]["path"] == "/states/one.state"
        assert body["system"]["save_failures"] == 1
        assert body["system"]["last_save_failure"]["path"] == "/states/two.state"
        assert body["inference"]["steps"] == 50
        assert body["trainers"]["trainer"]["runs"] == 1
        assert body["trainers"]["idle"]["last_duration"] is None
        assert body["models"]["model"]["versions_behind"] == 1
        assert body["buffers"] == {"buffer": {"size": 30, "capacity": 100}}

    def test_a_training_only_model_has_no_inference_version_or_lag(
        self, client: httpx.Client
    ) -> None:
        critic = client.get("/api/metrics").json()["models"]["critic"]
        assert critic["training_version"] == 15
        assert critic["inference_version"] is None
        assert critic["versions_behind"] is None
        assert critic["syncs_inference_model"] is False

    def test_follows_the_system(self, system: FakeSystem, client: httpx.Client) -> None:
        system.controller.pause()
        system.inference.pause(system.controller.pause_request())
        system.training.pause(system.controller.pause_request())
        steps = system.metrics.inference_steps
        assert hasattr(steps, "tick")
        steps.tick(1.0)  # type: ignore[attr-defined]
        body = client.get("/api/metrics").json()
        assert body["system"]["status_name"] == "paused"
        assert body["inference"]["steps"] == 51

    def test_head_is_answered_like_get(self, client: httpx.Client) -> None:
        response = client.head("/api/metrics")
        assert response.status_code == 200
        assert response.content == b""

    def test_a_failing_provider_gives_500_and_is_logged(
        self, make_server: MakeServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken() -> dict[str, Any]:
            raise RuntimeError("cannot measure")

        with app_client(make_server(metrics=broken)) as client:
            response = client.get("/api/metrics")
        assert response.status_code == 500
        assert response.json() == ERROR_INTERNAL_SERVER
        assert "Failed to collect the metrics." in caplog.text

    def test_values_that_are_not_json_give_500(self, make_server: MakeServer) -> None:
        server = make_server(metrics=lambda: {"x": float("nan")})
        with app_client(server) as client:
            assert client.get("/api/metrics").status_code == 500

    def test_serves_the_logged_scalars_grouped_by_component(
        self, client: httpx.Client
    ) -> None:
        scalars = client.get("/api/metrics").json()["scalars"]
        assert scalars["since"] is None
        assert set(scalars["groups"]) == {"trainers/trainer", "agent"}
        loss = scalars["groups"]["trainers/trainer"]["loss"]
        assert loss["steps"] == list(range(30))
        assert loss["latest"] == {"step": 29, "value": 1 / 30, "time": 1.7e9 + 29}
        assert [e["kind"] for e in scalars["events"]] == ["pause"]

    def test_with_a_cursor_only_what_changed_after_it_is_sent(
        self, system: FakeSystem, client: httpx.Client
    ) -> None:
        cursor = client.get("/api/metrics").json()["scalars"]["cursor"]
        unchanged = client.get("/api/metrics", params={"scalars_since": cursor})
        assert unchanged.json()["scalars"]["groups"] == {}
        assert unchanged.json()["scalars"]["since"] == cursor
        tracker = sample_scalars()  # another history: its cursor is foreign here
        foreign = tracker.summary()["cursor"]
        full = client.get("/api/metrics", params={"scalars_since": foreign}).json()
        assert full["scalars"]["since"] is None
        assert len(full["scalars"]["groups"]["agent"]["reward"]["steps"]) == 10

    def test_a_malformed_cursor_is_400_with_the_reason(
        self, client: httpx.Client
    ) -> None:
        response = client.get("/api/metrics", params={"scalars_since": "latest"})
        assert response.status_code == 400
        assert "'latest' is not a scalar history cursor" in response.json()["error"]

    def test_a_source_without_cursors_answers_everything(
        self, system: FakeSystem, make_server: MakeServer
    ) -> None:
        def snapshot() -> Mapping[str, Any]:  # takes no cursor
            return system.metrics.snapshot()

        server = make_server(metrics=snapshot)
        with app_client(server) as client:
            answer = client.get("/api/metrics", params={"scalars_since": "x:1"})
        assert answer.status_code == 200
        assert answer.json()["scalars"]["since"] is None

    def test_without_metrics_the_path_is_unknown(self, make_server: MakeServer) -> None:
        with app_client(make_server(metrics=None)) as client:
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
        for element in (
            'id="status"',
            'id="pause"',
            'id="resume"',
            'id="save"',
            'id="save-failures"',
        ):
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

    def test_is_served_without_metrics_too(self, make_server: MakeServer) -> None:
        with app_client(make_server(metrics=None)) as client:
            assert client.get("/").status_code == 200

    def test_ships_inside_the_package(self) -> None:
        page = resources.files("pamiq_core.console").joinpath("dashboard.html")
        assert page.is_file()


class TestAccessToken:
    @pytest.fixture
    def server(self, make_server: MakeServer) -> WebApiServer:
        return make_server(token="s3cret", max_queue_size=0)

    @pytest.mark.parametrize(("method", "path"), [*ENDPOINTS, ("GET", "/unknown")])
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}],
        ids=["missing", "wrong", "not-bearer"],
    )
    def test_requests_without_the_token_are_refused(
        self,
        control: ControlStandIn,
        client: httpx.Client,
        method: str,
        path: str,
        headers: dict[str, str],
    ) -> None:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == ERROR_UNAUTHORIZED
        assert response.headers["www-authenticate"] == "Bearer"
        assert control.commands() == []

    @pytest.mark.parametrize(("method", "path"), ENDPOINTS)
    def test_requests_with_the_token_are_served(
        self, client: httpx.Client, method: str, path: str
    ) -> None:
        headers = {"Authorization": "Bearer s3cret"}
        assert client.request(method, path, headers=headers).status_code == 200
        response = client.request(method, path, params={"token": "s3cret"})
        assert response.status_code == 200

    @pytest.mark.parametrize("token", [" s3cret", "s3cret\n", "\ts3cret  "])
    def test_a_token_with_surrounding_whitespace_works_by_header_and_query(
        self, make_server: MakeServer, token: str
    ) -> None:
        with app_client(make_server(token=token)) as client:
            bearer = {"Authorization": "Bearer s3cret"}
            assert client.get("/api/status", headers=bearer).status_code == 200
            for given in ("s3cret", " s3cret ", token):
                response = client.get("/api/status", params={"token": given})
                assert response.status_code == 200, repr(given)
            assert client.get("/api/status").status_code == 401

    @pytest.mark.parametrize("token", ["", "   ", "\n"])
    def test_a_blank_token_is_refused_with_a_clear_error(
        self, system: FakeSystem, token: str
    ) -> None:
        with pytest.raises(ValueError, match="access token is blank"):
            WebApiServer(system.provider, token=token)

    def test_a_token_comes_from_the_environment(
        self, make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, "from-env\n")
        with app_client(make_server()) as client:
            assert client.get("/api/status").status_code == 401
            headers = {"Authorization": "Bearer from-env"}
            assert client.get("/api/status", headers=headers).status_code == 200

    def test_an_empty_environment_variable_is_no_token(
        self, make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, "  ")
        with app_client(make_server()) as client:
            assert client.get("/api/status").status_code == 200

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.0.2", "example.com"])
    def test_other_hosts_than_loopback_need_a_token(
        self, system: FakeSystem, host: str
    ) -> None:
        with pytest.raises(ValueError, match=TOKEN_ENV_VAR):
            WebApiServer(system.provider, host=host)
        WebApiServer(system.provider, host=host, token="s3cret")


class TestBrowserProtection:
    def test_cross_site_requests_are_refused(
        self, control: ControlStandIn, client: httpx.Client
    ) -> None:
        response = client.post(
            "/api/shutdown", headers={"Origin": "http://evil.example"}
        )
        assert response.status_code == 403
        assert response.json() == ERROR_FORBIDDEN
        assert control.commands() == []

    @pytest.mark.parametrize(("method", "path"), ENDPOINTS)
    def test_foreign_host_names_are_refused(
        self, control: ControlStandIn, client: httpx.Client, method: str, path: str
    ) -> None:
        # DNS rebinding: a page of evil.example, whose name now points at 127.0.0.1
        headers = {"Host": "evil.example:8391"}
        response = client.request(method, path, headers=headers)
        assert response.status_code == 403
        assert response.json() == ERROR_FORBIDDEN
        assert control.commands() == []

    def test_same_origin_requests_are_served(self, client: httpx.Client) -> None:
        headers = {"Origin": "http://localhost:8391"}
        assert client.post("/api/pause", headers=headers).status_code == 200


class TestConstruction:
    @pytest.mark.parametrize("port", [-1, 65536])
    def test_ports_out_of_range_are_refused(
        self, system: FakeSystem, port: int
    ) -> None:
        with pytest.raises(ValueError, match="port"):
            WebApiServer(system.provider, port=port)

    @pytest.mark.parametrize(
        ("setting", "value"),
        [
            ("max_connections", 0),
            ("header_timeout", 0.0),
            ("header_timeout", -1.0),
            ("header_timeout", float("inf")),
            ("header_timeout", float("nan")),
            ("reply_timeout", -0.1),
            ("reply_timeout", float("nan")),
        ],
    )
    def test_limits_out_of_range_are_refused_by_name(
        self, system: FakeSystem, setting: str, value: float
    ) -> None:
        settings: dict[str, Any] = {setting: value}
        with pytest.raises(ValueError, match=setting):
            WebApiServer(system.provider, **settings)

    def test_the_limits_have_documented_defaults(self, system: FakeSystem) -> None:
        assert WebApiServer.DEFAULT_MAX_CONNECTIONS == 64
        assert WebApiServer.DEFAULT_HEADER_TIMEOUT == 5.0
        assert WebApiServer.DEFAULT_REPLY_TIMEOUT == 10.0


def test_many_clients_at_once_each_get_the_answer_to_their_command(
    make_server: MakeServer, control: ControlStandIn
) -> None:
    control.answer = lambda request: request.succeed({"command": request.command.name})
    server = make_server(max_queue_size=0)
    paths = list(COMMAND_PATHS) * 16

    with app_client(server) as client, ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda path: client.post(path).json(), paths))
    assert [body["command"] for body in bodies] == [
        COMMAND_PATHS[path].name for path in paths
    ]
