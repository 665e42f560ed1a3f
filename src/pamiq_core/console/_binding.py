"""The web API's listening socket, bound in the caller's thread.

Binding takes microseconds and needs nothing but :mod:`socket`, so
:meth:`WebApiServer.run_in_background` binds before it returns: a busy port is an
error the caller sees, not a log line on the server thread while the system runs on
without its API.
"""

import errno
import os
import socket

LISTEN_BACKLOG = 32
"""Connections the kernel may hold before the server accepts them (they use no file
descriptor of this process until then)."""


class WebApiAddressInUseError(OSError):
    """The web API's address is taken, most likely by another running system."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            errno.EADDRINUSE,
            f"The web API cannot listen on {host}:{port}: the address is already in "
            "use, probably by another system that is running there (pamiq-console "
            "would control that one instead). Stop it, choose another port with "
            "web_api_address, or pass web_api_address=None to run without the API.",
        )
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.strerror)


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (port 0 picks a free one).

    Raises:
        WebApiAddressInUseError: If the address is in use.
        OSError: If the address cannot be bound for another reason (unknown host,
            no permission), with a message that names it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say TCP,
    # and with Nagle on every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name != "nt":  # on Windows this would let others steal the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(LISTEN_BACKLOG)  # listening now, so a second server cannot bind
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise WebApiAddressInUseError(host, port) from error
        raise OSError(
            error.errno,
            f"The web API cannot listen on {host}:{port}: {error.strerror or error}",
        ) from error
    except BaseException:
        sock.close()
        raise
    return sock
