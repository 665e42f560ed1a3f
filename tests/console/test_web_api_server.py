"""The server's own life cycle on real sockets: binding, stopping, connection limits.

Routes are tested in-process (``test_web_api_app.py``); the flood at scale is in
``test_flood.py``.
"""

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from eventually import eventually
from pamiq_core.console import ControlCommands, WebApiServer
from pamiq_core.console.web_api import CommandRequest, WebApiAddressInUseError

from .conftest import ControlStandIn, FakeSystem, MakeServer, free_port

StartServer = Callable[..., WebApiServer]


def is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def can_bind(port: int) -> bool:
    """Whether a new server (which sets SO_REUSEADDR, as ours does) could bind."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_of(server: WebApiServer) -> int:
    assert server.address is not None
    return server.address[1]


@pytest.fixture
def start_server(make_server: MakeServer) -> Iterator[StartServer]:
    """Start live servers on free ports; they are stopped after the test."""
    servers: list[WebApiServer] = []

    def start(**kwargs: object) -> WebApiServer:
        kwargs.setdefault("port", 0)
        server = make_server(**kwargs)
        servers.append(server)
        server.run_in_background()
        return server

    yield start
    for server in servers:
        assert server.stop(timeout=10)


class TestStarting:
    def test_binds_in_the_callers_thread_and_returns_at_once(
        self, make_server: MakeServer
    ) -> None:
        server = make_server(port=0)
        started = time.perf_counter()
        server.run_in_background()
        elapsed = time.perf_counter() - started
        try:
            assert elapsed < 0.5  # importing and serving happen on the server thread
            port = port_of(server)
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass  # accepted by the kernel already
            assert server.wait_for_startup(timeout=20)
        finally:
            server.stop()

    def test_serves_from_a_daemon_thread_named_webapi(
        self, start_server: StartServer
    ) -> None:
        server = start_server()
        threads = [t for t in threading.enumerate() if t.name == "webapi"]
        assert threads
        assert all(t.daemon for t in threads)
        host, port = server.address or ("", 0)
        assert host == "localhost"
        response = httpx.get(f"http://localhost:{port}/api/status", timeout=20)
        assert response.json() == {"status": 1}

    def test_a_busy_port_raises_an_error_naming_it_and_what_to_do(
        self, start_server: StartServer, make_server: MakeServer
    ) -> None:
        first = start_server()
        port = port_of(first)
        second = make_server(port=port, on_command=None)
        with pytest.raises(WebApiAddressInUseError) as caught:
            second.run_in_background()
        error = caught.value
        assert isinstance(error, OSError)
        assert error.errno == errno.EADDRINUSE
        assert (error.host, error.port) == ("localhost", port)
        message = str(error)
        assert f"localhost:{port}" in message
        assert "another system" in message
        assert "web_api_address" in message
        assert second.address is None
        assert second.stop()
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_a_port_taken_by_another_program_raises_the_same_error(
        self, make_server: MakeServer
    ) -> None:
        with socket.socket() as other:
            other.bind(("127.0.0.1", 0))
            other.listen()
            port = other.getsockname()[1]
            server = make_server(port=port)
            with pytest.raises(WebApiAddressInUseError, match=f"localhost:{port}"):
                server.run_in_background()

    def test_an_address_of_another_machine_raises_an_os_error_naming_it(
        self, make_server: MakeServer
    ) -> None:
        server = make_server(host="192.0.2.1", port=0, token="t")  # TEST-NET-1
        with pytest.raises(OSError, match=r"cannot listen on 192\.0\.2\.1:0") as caught:
            server.run_in_background()
        assert not isinstance(caught.value, WebApiAddressInUseError)

    def test_starting_twice_keeps_the_running_server(
        self, start_server: StartServer
    ) -> None:
        server = start_server()
        address = server.address
        server.run_in_background()
        assert server.address == address


class TestStopping:
    def test_stop_releases_the_port_for_another_server(
        self, start_server: StartServer
    ) -> None:
        first = start_server()
        port = port_of(first)
        with httpx.Client() as keep_alive:  # an open connection must not hold it up
            keep_alive.get(f"http://localhost:{port}/api/status")
            started = time.perf_counter()
            assert first.stop(timeout=10)
            stopped_in = time.perf_counter() - started
        assert stopped_in < 2.0  # about 0.2 s: uvicorn checks its exit flag each 0.1 s
        assert first.address is None
        assert not is_listening(port)
        assert can_bind(port)
        second = start_server(port=port, on_command=None)
        assert second.address == ("localhost", port)
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_request_stop_returns_at_once_and_the_port_is_released_soon(
        self, start_server: StartServer
    ) -> None:
        server = start_server()
        assert server.wait_for_startup(timeout=20)
        port = port_of(server)
        started = time.perf_counter()
        server.request_stop()
        assert time.perf_counter() - started < 0.05
        eventually(lambda: not is_listening(port), what="the port to be released")
        assert server.stop(timeout=10)

    def test_a_stopped_server_can_start_again(self, start_server: StartServer) -> None:
        port = free_port()
        server = start_server(port=port)
        assert server.stop(timeout=10)
        assert not server.wait_for_startup(timeout=0)
        server.run_in_background()
        assert server.wait_for_startup(timeout=20)
        assert server.address == ("localhost", port)
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_starting_while_stopping_waits_for_the_old_thread(
        self, start_server: StartServer
    ) -> None:
        server = start_server()
        assert server.wait_for_startup(timeout=20)
        server.request_stop()
        server.run_in_background()  # the old thread ends first, then it binds anew
        assert server.wait_for_startup(timeout=20)
        port = port_of(server)
        assert httpx.get(f"http://localhost:{port}/api/status").status_code == 200

    def test_stop_right_after_start_leaves_nothing_listening(
        self, make_server: MakeServer
    ) -> None:
        port = free_port()
        server = make_server(port=port)
        server.run_in_background()
        assert server.stop(timeout=10)
        assert not is_listening(port)
        assert server.connection_stats() is None

    def test_stop_is_repeatable_and_fine_before_any_start(
        self, system: FakeSystem, start_server: StartServer
    ) -> None:
        assert WebApiServer(system.provider, port=free_port()).stop()
        server = start_server()
        assert server.stop(timeout=10)
        assert server.stop(timeout=10)


# ---- connection limits, a few connections at a time ---------------------------------

HALF_REQUEST = b"GET /api/status HTTP/1.1\r\nHost: localhost\r\n"


def half_sent(port: int) -> socket.socket:
    """A connection that sent half a request head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(HALF_REQUEST)
    return sock


def seconds_until_closed(sock: socket.socket, timeout: float = 20.0) -> float:
    """How long until the server closes ``sock`` (fails after ``timeout``)."""
    started = time.perf_counter()
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.perf_counter() - started


def is_open(sock: socket.socket) -> bool:
    """Whether the server has not closed ``sock`` (nothing to read: no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.setblocking(True)


def open_connections(server: WebApiServer) -> int:
    stats = server.connection_stats()
    return -1 if stats is None else stats.open


class TestConnectionLimits:
    def test_a_half_sent_request_is_closed_after_the_header_timeout(
        self, start_server: StartServer
    ) -> None:
        server = start_server(header_timeout=0.5)
        with half_sent(port_of(server)) as sock:
            elapsed = seconds_until_closed(sock)
        assert 0.4 < elapsed < 5.0
        stats = server.connection_stats()
        assert stats is not None
        assert stats.timed_out == 1
        assert stats.longest_idle >= 0.5

    def test_trickled_bytes_do_not_extend_the_header_timeout(
        self, start_server: StartServer
    ) -> None:
        server = start_server(header_timeout=0.5)
        closed = threading.Event()

        def trickle(sock: socket.socket) -> None:
            while not closed.wait(0.05):
                try:
                    sock.send(b"X-Slow: y\r\n")
                except OSError:
                    return

        with half_sent(port_of(server)) as sock:
            sender = threading.Thread(target=trickle, args=(sock,))
            sender.start()
            try:
                elapsed = seconds_until_closed(sock)
            finally:
                closed.set()
                sender.join()
        assert elapsed < 5.0

    def test_an_idle_kept_alive_connection_is_closed_after_the_timeout(
        self, start_server: StartServer
    ) -> None:
        server = start_server(header_timeout=0.5)
        with socket.create_connection(("127.0.0.1", port_of(server))) as sock:
            sock.sendall(HALF_REQUEST + b"\r\n")
            answer = b""
            while b'{"status":1}' not in answer:
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200")
            elapsed = seconds_until_closed(sock)
        assert elapsed < 5.0

    def test_a_new_connection_replaces_the_one_idle_longest_when_all_are_taken(
        self, start_server: StartServer
    ) -> None:
        server = start_server(max_connections=2, header_timeout=60)
        port = port_of(server)
        with half_sent(port) as first:
            eventually(lambda: open_connections(server) == 1, what="one connection")
            with half_sent(port) as second:
                eventually(lambda: open_connections(server) == 2, what="two")
                with half_sent(port) as third:
                    assert seconds_until_closed(first) < 10
                    eventually(lambda: open_connections(server) == 2, what="two")
                    assert is_open(second)
                    assert is_open(third)
        stats = server.connection_stats()
        assert stats is not None
        assert (stats.evicted, stats.most_open) == (1, 2)

    def test_a_real_client_gets_in_while_idle_connections_hold_every_slot(
        self, start_server: StartServer
    ) -> None:
        server = start_server(max_connections=3, header_timeout=60)
        port = port_of(server)
        flood = [half_sent(port) for _ in range(3)]
        try:
            eventually(lambda: open_connections(server) == 3, what="a full server")
            response = httpx.get(f"http://localhost:{port}/api/status", timeout=10)
            assert response.json() == {"status": 1}
        finally:
            for sock in flood:
                sock.close()

    def test_when_every_connection_is_busy_a_new_one_is_closed_at_once(
        self,
        start_server: StartServer,
        control: ControlStandIn,
    ) -> None:
        release = threading.Event()

        def answer_later(request: CommandRequest) -> None:
            release.wait(20)
            request.succeed()

        control.answer = answer_later
        server = start_server(max_connections=1, header_timeout=60)
        port = port_of(server)
        url = f"http://localhost:{port}/api/pause"
        with httpx.Client(timeout=20) as client:
            posting = threading.Thread(target=client.post, args=(url,))
            posting.start()
            try:
                eventually(lambda: not control.received.empty(), what="the command")
                with socket.create_connection(("127.0.0.1", port)) as refused:
                    assert seconds_until_closed(refused) < 10
            finally:
                release.set()
                posting.join()
        assert control.commands() == [ControlCommands.PAUSE]
        stats = server.connection_stats()
        assert stats is not None
        assert stats.refused == 1


def test_the_guard_wraps_the_protocol_of_uvicorns_h11_setting() -> None:
    """The one piece of uvicorn the guard relies on beyond its public settings.

    uvicorn is pinned in constraints.txt; if an upgrade moves or renames the h11
    protocol, this fails first, naming what changed.
    """
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.importer import import_from_string
    from uvicorn.protocols.http.h11_impl import H11Protocol  # what the guard wraps

    assert import_from_string(HTTP_PROTOCOLS["h11"]) is H11Protocol, HTTP_PROTOCOLS
