"""Serving an ASGI application with uvicorn on an already bound socket.

The server thread binds the socket itself (so a busy port is reported clearly
instead of through ``SystemExit``) and can be stopped from any thread within
milliseconds: stock uvicorn polls its exit flag every 0.1 s and then sleeps another
0.1 s while shutting down, which would make every short run of the system slower.
Imported only when a server starts.
"""

import asyncio
import contextlib
import os
import socket

import uvicorn
from starlette.types import ASGIApp

_BACKLOG = 2048
_GRACE_PERIOD = 1.0
"""Seconds that requests in progress get to finish when the server stops."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (port 0 picks a free one).

    Raises:
        OSError: If the address cannot be bound (in use, unknown host, ...).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say TCP,
    # and with Nagle on every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name != "nt":  # on Windows this would let others steal the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(_BACKLOG)  # listening now, so a second server cannot bind it
    except BaseException:
        sock.close()
        raise
    return sock


class StoppableServer(uvicorn.Server):
    """A uvicorn server that stops as soon as :meth:`request_stop` is called."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                log_level="error",
                log_config=None,  # keep the application's logging configuration
                lifespan="off",
                http="h11",
                ws="none",
                proxy_headers=False,
                server_header=False,
                access_log=False,
                timeout_graceful_shutdown=int(_GRACE_PERIOD),
            )
        )
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def request_stop(self) -> None:
        """Ask the server to stop; safe to call from any thread, at any time."""
        self.should_exit = True
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(wakeup.set)

    async def main_loop(self) -> None:
        """Run uvicorn's housekeeping ticks, waking at once when asked to stop."""
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close the listening sockets, then give open requests a moment to end."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _GRACE_PERIOD
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in state.tasks:
            task.cancel()
        await self.lifespan.shutdown()
