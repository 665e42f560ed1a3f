"""The OpenAPI document: generated from the code's types, and true to the answers."""

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from pamiq_core.console import WebApiServer
from pamiq_core.console._openapi_build import REGENERATE, document_path, render
from pamiq_core.metrics import SCALARS_CURSOR_PATTERN

from .conftest import ControlStandIn, MakeServer, app_client
from .openapi_check import answer_validator, schema_validator


@pytest.fixture
def document(client: httpx.Client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def test_the_committed_document_is_generated_from_the_code() -> None:
    committed = document_path().read_text(encoding="utf-8")
    assert committed == render(), (
        f"{document_path()} is out of date: regenerate it with "
        f"`.venv/bin/{REGENERATE}` and commit it"
    )


def test_the_server_serves_the_committed_document(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(document_path().read_text(encoding="utf-8"))


def test_it_describes_every_route_the_server_serves(
    server: WebApiServer, document: dict[str, Any]
) -> None:
    routed = {
        (method, route.path)
        for route in server._app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert described == routed
    assert document["openapi"] == "3.1.0"


def test_it_declares_the_optional_bearer_token(document: dict[str, Any]) -> None:
    assert document["security"] == [{}, {"bearerAuth": []}]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer"}
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"401", "403"} <= set(operation["responses"])


def test_field_descriptions_come_from_the_docstrings(document: dict[str, Any]) -> None:
    system = document["components"]["schemas"]["SystemSummary"]["properties"]
    assert system["save_failures"]["description"] == "Saves that failed while running."
    assert system["uptime"]["description"].startswith("Pamiq seconds since the start")
    assert "\n" not in system["uptime"]["description"]


def test_schemas_are_closed_where_the_types_are(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Metrics"]["additionalProperties"] is False
    assert schemas["Result"]["additionalProperties"] is True  # details may follow
    validator = schema_validator(document, "Metrics")
    assert not validator.is_valid({"system": {}})


class TestRealAnswersMatchTheirDescription:
    """Every answer the API gives in these scenarios is valid for its schema."""

    def check(
        self, document: dict[str, Any], response: httpx.Response, path: str
    ) -> None:
        method = response.request.method
        validator = answer_validator(document, method, path, response.status_code)
        validator.validate(response.json())

    def test_reads(self, client: httpx.Client, document: dict[str, Any]) -> None:
        for path in ("/api/status", "/api/metrics"):
            self.check(document, client.get(path), path)

    def test_scalars_since_a_cursor_and_a_malformed_cursor(
        self, client: httpx.Client, document: dict[str, Any]
    ) -> None:
        full = client.get("/api/metrics").json()
        assert full["scalars"]["groups"], "the sample metrics hold logged scalars"
        cursor = full["scalars"]["cursor"]
        newer = client.get("/api/metrics", params={"scalars_since": cursor})
        self.check(document, newer, "/api/metrics")
        malformed = client.get("/api/metrics", params={"scalars_since": "x"})
        assert malformed.status_code == 400
        self.check(document, malformed, "/api/metrics")


def test_the_cursor_parameter_is_described_with_its_pattern(
    document: dict[str, Any],
) -> None:
    (parameter,) = document["paths"]["/api/metrics"]["get"]["parameters"]
    assert parameter["name"] == "scalars_since"
    assert parameter["in"] == "query"
    assert not parameter["required"]
    assert parameter["schema"]["pattern"] == SCALARS_CURSOR_PATTERN

    def test_commands(
        self,
        control: ControlStandIn,
        client: httpx.Client,
        document: dict[str, Any],
    ) -> None:
        self.check(document, client.post("/api/pause"), "/api/pause")
        control.answer = lambda request: request.succeed({"path": "/states/x"})
        self.check(document, client.post("/api/save-state"), "/api/save-state")
        control.answer = lambda request: request.fail("disk full")
        self.check(document, client.post("/api/save-state"), "/api/save-state")

    def test_accepted_full_and_stopping(
        self, make_server: MakeServer, document: dict[str, Any]
    ) -> None:
        server = make_server(on_command=lambda: None, reply_timeout=0)
        with app_client(server) as client:
            accepted = client.post("/api/pause")
            assert accepted.status_code == 202
            self.check(document, accepted, "/api/pause")
            full = client.post("/api/pause")
            assert full.status_code == 503
            self.check(document, full, "/api/pause")
            server.request_stop()
            stopping = client.post("/api/resume")
            assert stopping.status_code == 503
            self.check(document, stopping, "/api/resume")

    def test_refusals_and_missing_metrics(
        self, make_server: MakeServer, document: dict[str, Any]
    ) -> None:
        with app_client(make_server(token="t", metrics=None)) as client:
            self.check(document, client.get("/api/status"), "/api/status")
            headers = {"Authorization": "Bearer t"}
            missing = client.get("/api/metrics", headers=headers)
            assert missing.status_code == 404
            self.check(document, missing, "/api/metrics")
        with app_client(make_server(on_command=None)) as client:
            foreign = client.get("/api/status", headers={"Host": "evil.example"})
            assert foreign.status_code == 403
            self.check(document, foreign, "/api/status")


def test_serving_the_document_needs_no_pydantic() -> None:
    """pydantic is a development tool here: the package does not depend on it."""
    code = """
import sys, warnings
sys.modules["pydantic"] = None  # any import of it fails
from pamiq_core.console import SystemStatusProvider, WebApiServer
from pamiq_core.thread import ThreadController, ThreadStatusesMonitor
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
provider = SystemStatusProvider(ThreadController().read_only, ThreadStatusesMonitor({}))
app = WebApiServer(provider, port=0)._app
with TestClient(app, base_url="http://localhost") as client:
    print(client.get("/openapi.json").json()["openapi"])
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3.1.0"
