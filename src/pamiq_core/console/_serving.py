"""Running an ASGI application with uvicorn on an already bound socket.

Only uvicorn's public API is used: ``Config``, ``Server(config).run(sockets=...)``
and ``should_exit``, plus its ``http=`` setting for the connection guard. The price
is the stop: uvicorn notices ``should_exit`` within 0.1 s and closes the listening
socket at once, then waits another 0.1 s and for open requests to end (at most
``GRACE_PERIOD``). Measured on a loaded 2-core machine: the port is free 17 to
108 ms after :meth:`ServerRunner.request_stop`, and :meth:`ServerRunner.run`
returns after 121 to 210 ms. Whoever stops a server should ask early and wait late
(``WebApiServer.request_stop``, then ``stop``). Imported only when a server starts.
"""

import math
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

from ._binding import LISTEN_BACKLOG
from ._connections import ConnectionGuard, TrackRequests

GRACE_PERIOD = 1
"""Seconds that requests in progress get to finish when the server stops."""

MAX_REQUEST_HEAD_BYTES = 16 * 1024
"""Largest request line and headers accepted; more is answered 400. With the cap on
connections, this bounds the memory that clients can make the server hold."""


class ServerRunner:
    """One uvicorn server for one bound socket; run it once, stop it from anywhere."""

    def __init__(
        self,
        app: ASGIApp,
        sock: socket.socket,
        *,
        started: threading.Event,
        max_connections: int,
        header_timeout: float,
    ) -> None:
        """Prepare to serve ``app`` on ``sock``.

        Args:
            app: The application.
            sock: A listening socket; it is closed when the server stops.
            started: Set once the server has started up.
            max_connections: Connections open at once (see :class:`ConnectionGuard`).
            header_timeout: Seconds a connection may take to send a request's head.
        """
        self.guard = ConnectionGuard(max_connections, header_timeout)
        self._socket = sock
        self._server = uvicorn.Server(
            uvicorn.Config(
                TrackRequests(app, started),
                http=self.guard.protocol_class(),
                ws="none",
                lifespan="on",
                log_level="error",
                log_config=None,  # keep the application's logging configuration
                access_log=False,
                proxy_headers=False,
                server_header=False,
                timeout_keep_alive=max(1, math.ceil(header_timeout)),
                timeout_graceful_shutdown=GRACE_PERIOD,
                h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
                # asyncio accepts up to this many connections per loop iteration,
                # before the guard sees them: it bounds the descriptors in flight.
                backlog=LISTEN_BACKLOG,
            )
        )

    def run(self) -> None:
        """Serve until :meth:`request_stop`; then close the socket and return."""
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def request_stop(self) -> None:
        """Ask the server to stop; safe from any thread, at any time, repeatedly."""
        self._server.should_exit = True
