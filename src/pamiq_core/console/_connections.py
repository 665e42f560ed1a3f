"""Bounds on the web server's connections: how many, and how long each may idle.

uvicorn has no limit on open connections and no timeout for a request's headers: a
client that opens a connection and sends half a request holds a file descriptor
until it goes away (``limit_concurrency`` answers 503 only once a request is
complete). A flood of such clients takes every descriptor of the process, and then
the system's next save fails. So every connection goes through a
:class:`ConnectionGuard`:

- at most ``max_connections`` are open at once. A new one beyond that closes the
  connection that has been idle longest (waiting for a request's headers, or
  kept alive between requests), so a flood cannot lock real clients out for
  long; when every connection is busy with a request, the new one is closed at
  once;
- a connection that has not started a request within ``header_timeout`` seconds
  of opening, or of its previous answer, is closed. Bytes that trickle in do not
  extend this: only a complete request head does.

The guard plugs into uvicorn through its public ``http=`` setting (a protocol
class, which wraps uvicorn's own h11 protocol and delegates to it) and sees requests
start and end through a small ASGI wrapper, which finds its connection in the
request's ``state``. Everything here runs on the server's event loop thread.
"""

import asyncio
import threading
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._connection_stats import ConnectionStats

_CONNECTION_KEY = "pamiq_core.connection"
"""Where a request's ``state`` holds the connection it came on."""


class ConnectionGuard:
    """Admits, times out and evicts the connections of one server."""

    def __init__(self, max_connections: int, header_timeout: float) -> None:
        """Allow ``max_connections`` open connections, each idle ``header_timeout`` s."""
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self._idle: dict[GuardedConnection, float] = {}
        """Connections without a request in progress, the longest idle first, with
        the loop time at which each became idle."""
        self._busy: set[GuardedConnection] = set()
        self._most_open = 0
        self._admitted = 0
        self._refused = 0
        self._evicted = 0
        self._timed_out = 0
        self._longest_idle = 0.0

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return len(self._idle) + len(self._busy)

    def stats(self) -> ConnectionStats:
        """What the guard did so far (plain numbers; any thread may ask)."""
        return ConnectionStats(
            open=self.open_connections,
            most_open=self._most_open,
            admitted=self._admitted,
            refused=self._refused,
            evicted=self._evicted,
            timed_out=self._timed_out,
            longest_idle=self._longest_idle,
        )

    def protocol_class(self) -> type[asyncio.Protocol]:
        """The class to pass as uvicorn's ``http`` setting."""
        guard = self

        class Guarded(GuardedConnection):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(guard, **kwargs)

        return Guarded

    def admit(self, connection: "GuardedConnection", now: float) -> bool:
        """Take ``connection`` in as idle; False if it must be closed at once."""
        if self.open_connections >= self.max_connections:
            if not self._idle:
                self._refused += 1
                return False
            oldest = next(iter(self._idle))
            self.release(oldest, now)
            self._evicted += 1
            oldest.abort()
        self._idle[connection] = now
        self._admitted += 1
        self._most_open = max(self._most_open, self.open_connections)
        return True

    def set_busy(self, connection: "GuardedConnection", now: float) -> None:
        """Note that a request on ``connection`` started."""
        if connection in self._idle:
            self._end_idle(connection, now)
            self._busy.add(connection)

    def set_idle(self, connection: "GuardedConnection", now: float) -> None:
        """Note that the request on ``connection`` ended."""
        if connection in self._busy:
            self._busy.discard(connection)
            self._idle[connection] = now

    def time_out(self, connection: "GuardedConnection", now: float) -> None:
        """Forget ``connection``, which idled too long."""
        if connection in self._idle:
            self._timed_out += 1
        self.release(connection, now)

    def release(self, connection: "GuardedConnection", now: float) -> None:
        """Forget ``connection`` (safe to repeat)."""
        if connection in self._idle:
            self._end_idle(connection, now)
        self._busy.discard(connection)

    def _end_idle(self, connection: "GuardedConnection", now: float) -> None:
        idle = now - self._idle.pop(connection)
        self._longest_idle = max(self._longest_idle, idle)


class GuardedConnection(asyncio.Protocol):
    """One connection: admitted by the guard, timed, served by uvicorn's h11 protocol."""

    def __init__(self, guard: ConnectionGuard, **kwargs: Any) -> None:
        """Wrap the protocol uvicorn's ``http="h11"`` setting would create.

        Args:
            guard: The server's guard.
            kwargs: What uvicorn passes to its protocol class (``config``,
                ``server_state``, ``app_state``, ``_loop``).
        """
        app_state = {**kwargs.pop("app_state"), _CONNECTION_KEY: self}
        self._inner = H11Protocol(app_state=app_state, **kwargs)
        self._guard = guard
        self._transport: asyncio.BaseTransport | None = None
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if not self._guard.admit(self, _now()):
            transport.abort()  # type: ignore[attr-defined]
            return
        self._admitted = True
        self._inner.connection_made(transport)  # type: ignore[arg-type]
        self._arm_deadline()

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.release(self, _now())
        self._disarm_deadline()
        if self._admitted:
            self._admitted = False
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()

    def request_started(self) -> None:
        """A complete request head arrived: its handling may take its time."""
        self._disarm_deadline()
        self._guard.set_busy(self, _now())

    def request_ended(self) -> None:
        """The answer went out: the next request's head is due within the timeout."""
        self._guard.set_idle(self, _now())
        if self._admitted:
            self._arm_deadline()

    def abort(self) -> None:
        """Close the connection now, without a goodbye."""
        self._disarm_deadline()
        if self._transport is not None:
            self._transport.abort()  # type: ignore[attr-defined]

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._guard.header_timeout, self._time_out)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _time_out(self) -> None:
        self._deadline = None
        self._guard.time_out(self, _now())
        if self._transport is not None:
            self._transport.close()


def _now() -> float:
    return asyncio.get_running_loop().time()


class TrackRequests:
    """ASGI wrapper: tells each request's connection when the request starts and ends.

    It also answers the ASGI lifespan protocol, setting ``started`` once uvicorn
    has started up, so the server's owner can wait for that.
    """

    def __init__(self, app: ASGIApp, started: threading.Event) -> None:
        """Wrap ``app``; set ``started`` when the server starts."""
        self._app = app
        self._started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        state: dict[str, Any] = scope.get("state") or {}
        connection = state.get(_CONNECTION_KEY)
        if not isinstance(connection, GuardedConnection):
            await self._app(scope, receive, send)
            return
        connection.request_started()
        try:
            await self._app(scope, receive, send)
        finally:
            connection.request_ended()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "lifespan.startup":
                self._started.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
