"""A flood of half-sent, unauthenticated requests against the web API.

Issue 11 found that ~1,100 such connections opened in 0.2 s took every file
descriptor of a system with a token, whose next save then failed, and that without
a header timeout they were held for as long as the clients liked. This script
floods a real ``WebApiServer`` (with a token, on loopback) from a child process,
which opens every connection at once, sends half a request head on each and then
holds them all open, never finishing a request. In the server's process it
measures:

- the most file descriptors the process held (``/proc/self/fd``), next to its
  limit: the soft ``RLIMIT_NOFILE`` is lowered to far below the flood's size, so a
  server that kept every connection would run out (asyncio then logs
  "socket.accept() out of system resource", counted here);
- what the server's connection guard did (``WebApiServer.connection_stats()``):
  connections admitted, evicted by newer ones, closed by the header timeout, the
  most open at once and the longest any idled;
- whether an authenticated request is answered while the flood holds every
  connection slot, whether status requests and file opens kept working during the
  flood, how long until the server held none of the flood's connections while the
  clients still held theirs, and whether the server answers afterwards.

The same flood then hits an unguarded server (limits out of reach) as the baseline,
in the same process, unless ``--no-baseline``.

Usage: python benchmarks/flood.py [--quick] [--connections N] [--json]
"""

import argparse
import contextlib
import errno
import json
import logging
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from _machine import describe_machine
from pamiq_core.console import SystemStatusProvider, WebApiServer
from pamiq_core.thread import ThreadController, ThreadStatusesMonitor

TOKEN = "flood-test-token"
HALF_REQUEST = b"GET /api/status HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
"""A request head that never ends: no token, no blank line."""
FD_HEADROOM = 256
"""File descriptors the flooded process may open beyond those it holds already."""
CONNECTED = "connected"
"""What the flooding child prints once every connection is made (or failed)."""
CONNECTING_SECONDS = 5.0
"""The longest the flooding child waits for its connections before saying so."""


# ---- the flooding side (a child process) -------------------------------------------


def attack(port: int, connections: int, window: float) -> dict[str, Any]:
    """Open ``connections`` half-sent requests at once and hold them.

    Prints ``connected`` once every connection is made or failed (or after
    ``CONNECTING_SECONDS``: the kernel holds back connections beyond the server's
    listen backlog, and their clients retry after 1, 3, 7... s), then watches them
    until standard input closes or ``window`` seconds have passed.

    Returns:
        How many connected, and how many of those the server closed.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, max(soft, connections + 64)), hard)
    )
    selector = selectors.DefaultSelector()
    pending: set[socket.socket] = set()
    held: set[socket.socket] = set()
    closed = failed = 0
    started = time.perf_counter()
    for _ in range(connections):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if sock.connect_ex(("127.0.0.1", port)) not in (0, errno.EINPROGRESS):
            sock.close()
            failed += 1
            continue
        pending.add(sock)
        selector.register(sock, selectors.EVENT_WRITE)
    selector.register(sys.stdin, selectors.EVENT_READ)
    told = False
    deadline = started + window
    while time.perf_counter() < deadline:
        connecting = time.perf_counter() < started + CONNECTING_SECONDS
        if not told and not (pending and connecting):
            print(CONNECTED, flush=True)
            told = True
        for key, _ in selector.select(timeout=0.05):
            if key.fileobj is sys.stdin:
                deadline = 0.0  # the parent has seen enough
                break
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock in pending:
                pending.discard(sock)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    failed += 1
                    selector.unregister(sock)
                    sock.close()
                    continue
                held.add(sock)
                with contextlib.suppress(OSError):  # closed already: seen next
                    sock.send(HALF_REQUEST)
                selector.modify(sock, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except BlockingIOError:
                continue
            if not data:  # closed by the server
                held.discard(sock)
                closed += 1
                selector.unregister(sock)
                sock.close()
    if not told:
        print(CONNECTED, flush=True)
    for sock in (*pending, *held):
        sock.close()
    return {
        "connected": closed + len(held),
        "failed": failed,
        "opening_seconds": time.perf_counter() - started,
        "closed_by_server": closed,
        "still_open": len(held),
    }


# ---- the server side (this process) --------------------------------------------------


def open_fds() -> int:
    """File descriptors this process holds (-1 if it cannot even list them)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def can_open_a_file() -> bool:
    try:
        with tempfile.TemporaryFile() as file:
            file.write(b"still alive")
    except OSError:
        return False
    return True


def authenticated_status(port: int, timeout: float = 5.0) -> str:
    """``"ok"``, or why an authenticated status request failed."""
    try:
        response = httpx.get(
            f"http://localhost:{port}/api/status",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=timeout,
        )
    except (httpx.HTTPError, OSError) as error:  # OSError: out of descriptors
        return type(error).__name__
    return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"


class Watch:
    """Until stopped: counts this process's file descriptors, and sends an
    authenticated status request and opens a file, as the system's next save would,
    every 20 ms."""

    def __init__(self, port: int) -> None:
        self.most_fds = open_fds()
        self.requests: dict[str, int] = {}
        self.files_opened = 0
        self.files_failed = 0
        self._port = port
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._count_fds, daemon=True),
            threading.Thread(target=self._probe, daemon=True),
        ]

    def __enter__(self) -> "Watch":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _count_fds(self) -> None:
        while not self._stop.wait(0.005):
            self.most_fds = max(self.most_fds, open_fds())

    def _probe(self) -> None:
        while not self._stop.wait(0.02):
            answer = authenticated_status(self._port, timeout=2.0)
            self.requests[answer] = self.requests.get(answer, 0) + 1
            if can_open_a_file():
                self.files_opened += 1
            else:
                self.files_failed += 1


class CountAcceptFailures(logging.Handler):
    """Counts asyncio's "socket.accept() out of system resource" errors."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "out of system resource" in record.getMessage():
            self.count += 1


@dataclass
class Result:
    """What one flood did to one server."""

    server: str
    max_connections: int
    header_timeout: float
    attempted: int
    connected: int
    fds_before: int
    fds_most: int
    fd_limit: int
    accept_out_of_fds: int
    admitted: int
    evicted: int
    timed_out: int
    refused: int
    most_open: int
    longest_idle: float
    answered_while_full: str
    requests_during: dict[str, int]
    files_opened_during: int
    files_failed_during: int
    seconds_until_none_held: float | None
    """After the flood connected; None if the server still held some of its
    connections when the window ended."""
    closed_by_server: int
    not_closed_by_server: int
    """Connections the flood still held at the end that the server had not closed.
    Some may never have reached it: the kernel completes a handshake in the
    client's view before the server has room to accept it."""
    answers_after: str
    can_open_a_file_after: bool


def flood(
    name: str,
    connections: int,
    max_connections: int,
    header_timeout: float,
    window: float,
    fd_headroom: int,
) -> Result:
    """Flood a server with these limits and measure what happened."""
    controller = ThreadController()
    provider = SystemStatusProvider(controller.read_only, ThreadStatusesMonitor({}))
    server = WebApiServer(
        provider,
        port=0,
        token=TOKEN,
        max_connections=max_connections,
        header_timeout=header_timeout,
    )
    server.run_in_background()
    assert server.wait_for_startup(10.0), "the server did not start"
    assert server.address is not None
    port = server.address[1]
    assert authenticated_status(port) == "ok", "no answer before the flood"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fds_before = open_fds()
    limit = fds_before + fd_headroom
    accept_failures = CountAcceptFailures()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(accept_failures)
    asyncio_logger.propagate = False  # counted, not printed
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            *("--attack", str(port), str(connections)),
            *("--window", str(window + 60.0)),  # the parent ends it sooner
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        with Watch(port) as watch:
            assert child.stdout.readline().strip() == CONNECTED
            connected_at = time.perf_counter()
            answered_while_full = authenticated_status(port)
            # Since when the server has held none. None held is a moment between
            # accept batches, unless it has closed the whole flood: on a loaded
            # machine the kernel still queues some for accept(). A flood with
            # failed connections never adds up, and is watched to the window's end.
            none_since = None
            while time.perf_counter() < connected_at + window:
                stats = server.connection_stats()
                if stats is None or stats.open > 0:
                    none_since = None
                else:
                    if none_since is None:
                        none_since = time.perf_counter()
                    if stats.evicted + stats.timed_out >= connections:
                        break
                time.sleep(0.01)
            none_held = None if none_since is None else none_since - connected_at
            child.stdin.close()
            report = json.loads(child.stdout.read())
            child.wait(timeout=60)
        can_open_after = can_open_a_file()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        asyncio_logger.removeHandler(accept_failures)
        asyncio_logger.propagate = True
        if child.poll() is None:
            child.kill()
    answers_after = authenticated_status(port)
    stats = server.connection_stats()
    assert stats is not None
    server.stop()
    return Result(
        server=name,
        max_connections=max_connections,
        header_timeout=header_timeout,
        attempted=connections,
        connected=report["connected"],
        fds_before=fds_before,
        fds_most=watch.most_fds,
        fd_limit=limit,
        accept_out_of_fds=accept_failures.count,
        admitted=stats.admitted,
        evicted=stats.evicted,
        timed_out=stats.timed_out,
        refused=stats.refused,
        most_open=stats.most_open,
        longest_idle=stats.longest_idle,
        answered_while_full=answered_while_full,
        requests_during=watch.requests,
        files_opened_during=watch.files_opened,
        files_failed_during=watch.files_failed,
        seconds_until_none_held=none_held,
        closed_by_server=report["closed_by_server"],
        not_closed_by_server=report["still_open"],
        answers_after=answers_after,
        can_open_a_file_after=can_open_after,
    )


def print_table(results: list[Result]) -> None:
    rows = {
        "connections held open by the flood (connected / attempted)": lambda r: (
            f"{r.connected} / {r.attempted}"
        ),
        "file descriptors: before / most / limit": lambda r: (
            f"{r.fds_before} / {r.fds_most} / {r.fd_limit}"
        ),
        "accept() out of file descriptors": lambda r: str(r.accept_out_of_fds),
        "connections admitted / evicted / timed out / refused": lambda r: (
            f"{r.admitted} / {r.evicted} / {r.timed_out} / {r.refused}"
        ),
        "most open at once": lambda r: str(r.most_open),
        "longest idle (s)": lambda r: f"{r.longest_idle:.2f}",
        "authenticated request while the flood held every slot": lambda r: (
            r.answered_while_full
        ),
        "status requests during the flood": lambda r: ", ".join(
            f"{answer} {count}" for answer, count in sorted(r.requests_during.items())
        ),
        "file opens during the flood (ok / failed)": lambda r: (
            f"{r.files_opened_during} / {r.files_failed_during}"
        ),
        "server held none of them after (s)": lambda r: (
            "never (window ended)"
            if r.seconds_until_none_held is None
            else f"{r.seconds_until_none_held:.2f}"
        ),
        "closed by the server / not (yet)": lambda r: (
            f"{r.closed_by_server} / {r.not_closed_by_server}"
        ),
        "answers afterwards / can open a file": lambda r: (
            f"{r.answers_after} / {'yes' if r.can_open_a_file_after else 'NO'}"
        ),
    }
    print("| | " + " | ".join(r.server for r in results) + " |")
    print("|---" * (len(results) + 1) + "|")
    for label, cell in rows.items():
        print(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description="Flood the web API.")
    parser.add_argument("--quick", action="store_true", help="a short run, for CI")
    parser.add_argument("--connections", type=int, default=None)
    parser.add_argument(
        "--max-connections", type=int, default=WebApiServer.DEFAULT_MAX_CONNECTIONS
    )
    parser.add_argument("--header-timeout", type=float, default=None)
    parser.add_argument("--fd-headroom", type=int, default=FD_HEADROOM)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--attack", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--window", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack is not None:
        port, connections = args.attack
        print(json.dumps(attack(port, connections, args.window)))
        return

    connections = args.connections or (300 if args.quick else 1500)
    header_timeout = args.header_timeout or (
        1.0 if args.quick else WebApiServer.DEFAULT_HEADER_TIMEOUT
    )
    # Clients whose connection the kernel held back retry after 1, 3, 7, 15, 31 s;
    # the window lets the last of them in and time out.
    window = header_timeout + (10.0 if args.quick else 40.0)
    results = [
        flood(
            "guarded",
            connections,
            args.max_connections,
            header_timeout,
            window,
            args.fd_headroom,
        )
    ]
    if not args.no_baseline:
        unguarded_window = header_timeout + 3.0  # it never lets go: no need to wait
        results.append(
            flood(
                "unguarded",
                connections,
                10**6,
                1e6,
                unguarded_window,
                args.fd_headroom,
            )
        )
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
        return
    print(f"machine: {describe_machine()}")
    print(
        f"{connections} half-sent, unauthenticated requests opened at once from "
        f"another process and held; guarded server: max_connections="
        f"{args.max_connections}, header_timeout={header_timeout} s.\n"
    )
    print_table(results)


if __name__ == "__main__":
    main()
