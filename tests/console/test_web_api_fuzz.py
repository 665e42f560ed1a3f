"""Random requests against a live server: it never answers 5xx and keeps serving.

Three fuzzers, all bounded in count and sent to loopback only:

- schemathesis, from the schema the server publishes at ``/openapi.json``: valid and
  invalid requests for every operation, each answer checked against the schema;
- hypothesis, for requests outside the schema: any method, mutated paths, random
  query strings, headers and bodies;
- raw bytes on a socket, for requests that are not even valid HTTP.

These run against a live server on a real socket, since malformed HTTP is the
server's business, not the application's. It has a real controller, real thread
statuses and sample metrics; a stand-in for the control thread answers the commands
and applies pause and resume, so the status varies.
"""

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, negative_data_rejection

from pamiq_core.console import SystemStatus, WebApiServer

from .conftest import ControlStandIn, FakeSystem

TOKEN = "fuzz-token"
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same requests on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


@dataclass
class LiveServer:
    server: WebApiServer
    base_url: str
    headers: dict[str, str]

    @property
    def port(self) -> int:
        assert self.server.address is not None
        return self.server.address[1]

    def assert_still_serving(self) -> None:
        response = httpx.get(f"{self.base_url}/api/status", headers=self.headers)
        assert response.status_code == 200
        assert SystemStatus(response.json()["status"]) is not SystemStatus.OFFLINE


@pytest.fixture(params=[None, TOKEN], ids=["no-token", "token"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    token: str | None = request.param
    system = FakeSystem()
    control = ControlStandIn(system)
    # An unbounded queue: a full one answers 503 by design (tested elsewhere).
    server = WebApiServer(
        system.provider,
        port=0,
        max_queue_size=0,
        token=token,
        on_command=control.wake,
        metrics=system.metrics.snapshot,
    )
    control.serve(server)
    server.run_in_background()
    assert server.address is not None
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    yield LiveServer(server, f"http://localhost:{server.address[1]}", headers)
    assert server.stop(timeout=10)
    control.stop()


def test_schema_driven_requests_conform_to_the_schema(live: LiveServer) -> None:
    document = httpx.get(f"{live.base_url}/openapi.json", headers=live.headers).json()
    if live.headers:  # this server requires the token the document makes optional
        document["security"] = [{"bearerAuth": []}]
    schema = schemathesis.openapi.from_dict(document)
    answered: set[int] = set()

    def fuzz(mode: GenerationMode, excluded: list[CheckFunction]) -> None:
        @FUZZ_SETTINGS
        @given(case=schema.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=live.base_url, headers=live.headers, excluded_checks=excluded
            )
            assert response.status_code < 500
            answered.add(response.status_code)

        check()

    fuzz(GenerationMode.POSITIVE, [])
    if live.headers:
        # Invalid requests: without the token, or with query parameters the
        # server does not know. It ignores the latter, as HTTP servers do, where
        # schemathesis expects a refusal, and the headers given here put the
        # token back; so these are checked for conforming answers and no 5xx.
        # Refusals of a missing token: TestAccess in test_web_api_app.py.
        fuzz(GenerationMode.NEGATIVE, [negative_data_rejection])
    assert 200 in answered
    assert {"/", "/api/metrics"} <= set(document["paths"])
    live.assert_still_serving()


METHODS = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
) | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10)
KNOWN_PATHS = [
    "/",
    "/api/status",
    "/api/metrics",
    "/api/pause",
    "/api/resume",
    "/api/save-state",
    "/api/shutdown",
    "/openapi.json",
]
PATH_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
)
PATHS = st.one_of(
    st.sampled_from(KNOWN_PATHS),
    st.builds(lambda p, s: p + s, st.sampled_from(KNOWN_PATHS), PATH_TEXT),
    st.builds(lambda s: "/" + s, PATH_TEXT),
    st.sampled_from(["/", "/api", "/api/", "//api/status", "/api/../api/status"]),
)
HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
)
HEADERS = st.dictionaries(
    st.sampled_from(
        ["Authorization", "Origin", "Content-Type", "Accept", "X-Random", "Cookie"]
    ),
    st.one_of(
        HEADER_VALUE,
        st.just(f"Bearer {TOKEN}"),
        st.sampled_from(["application/json", "http://localhost", "null"]),
    ),
    max_size=4,
)
QUERIES = st.dictionaries(
    st.sampled_from(["token", "a", "status", ""]),
    st.one_of(st.just(TOKEN), PATH_TEXT),
    max_size=3,
)
BODIES = st.one_of(
    st.just(b""), st.binary(max_size=200), st.just(b'{"command": "shutdown"}')
)


def test_random_requests_never_get_a_server_error(live: LiveServer) -> None:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:

        @FUZZ_SETTINGS
        @given(method=METHODS, path=PATHS, headers=HEADERS, query=QUERIES, body=BODIES)
        def check(
            method: str,
            path: str,
            headers: dict[str, str],
            query: dict[str, str],
            body: bytes,
        ) -> None:
            try:
                url = httpx.URL(path)
            except httpx.InvalidURL:
                return  # a path the client itself refuses to send
            response = client.request(
                method, url, headers=headers, params=query, content=body
            )
            assert response.status_code < 500, (method, path, response.text)
            if response.status_code >= 400 and method != "HEAD":
                assert set(response.json()) == {"error"}

        check()
    live.assert_still_serving()


RAW_REQUESTS = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.builds(
        lambda method, path, junk: method + b" " + path + b" HTTP/1.1\r\n" + junk,
        st.sampled_from([b"GET", b"POST", b"", b"G\x00T"]),
        st.sampled_from([b"/api/status", b"/api/pause", b"*", b"", b"\xff\xfe"]),
        st.binary(max_size=200),
    ),
    st.builds(
        lambda headers: (
            b"POST /api/pause HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n\r\n"
        ),
        st.sampled_from(
            [
                b"Content-Length: -1",
                b"Content-Length: 99999999999999999999",
                b"Transfer-Encoding: chunked\r\nContent-Length: 3",
                b"Transfer-Encoding: gzip",
                b"Host: a\r\nHost: b",
                b"Bad Header: x",
                b"X: \x00",
            ]
        ),
    ),
)


def test_malformed_http_never_gets_a_server_error(live: LiveServer) -> None:
    @FUZZ_SETTINGS
    @given(data=RAW_REQUESTS)
    def check(data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except (TimeoutError, ConnectionResetError):
                pass
        if answer.startswith(b"HTTP/"):
            status = int(answer.split(b" ", 2)[1])
            assert status < 500, (data, answer)

    check()
    live.assert_still_serving()
