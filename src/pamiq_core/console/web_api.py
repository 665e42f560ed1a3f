"""The HTTP control API of a running system: its server and its client.

Endpoints (JSON in and out):

=========================  =====================================================
``GET /``                  the dashboard: a page that draws the metrics live
``GET /api/status``        ``{"status": <int>}``, the value of :class:`SystemStatus`
``GET /api/metrics``       the system's metrics (when the server has them), with
                           the history of the logged scalars
``POST /api/pause``        pause; ``{"result": "ok"}`` once done (see below)
``POST /api/resume``       resume (likewise)
``POST /api/save-state``   save a snapshot (likewise)
``POST /api/shutdown``     shut down (likewise)
``GET /openapi.json``      the OpenAPI 3.1 description of all of the above
=========================  =====================================================

A command waits for the control thread's answer, up to the server's reply timeout:
200 ``{"result": "ok", ...}`` when it was carried out, an error status with
``{"error": <why>}`` when it failed, 202 ``{"result": "accepted", ...}`` when it is
still running; 503 when the command queue is full. Unknown paths answer 404, known
paths with another method 405. A server with an access token answers 401 to any
request that lacks it. Starlette, uvicorn and httpx are imported only when a server
or client is used, so importing this module is cheap.
"""

import json
import logging
import math
import queue
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pamiq_core.utils.reflection import get_class_module_path

from ._access import TOKEN_ENV_VAR, configured_token, resolve_token
from ._binding import WebApiAddressInUseError, bind_socket
from ._commands import CommandRequest, ControlCommands
from ._connection_stats import ConnectionStats
from ._responses import (
    ERROR_FORBIDDEN,
    ERROR_INTERNAL_SERVER,
    ERROR_INVALID_ENDPOINT,
    ERROR_INVALID_METHOD,
    ERROR_QUEUE_FULL,
    ERROR_STOPPING,
    ERROR_UNAUTHORIZED,
    RESULT_ACCEPTED,
    RESULT_OK,
)
from ._routes import SCALARS_SINCE
from .system_status import StatusSource, SystemStatus

if TYPE_CHECKING:
    import socket

    from starlette.applications import Starlette

    from ._serving import ServerRunner

__all__ = [
    "ControlCommands",
    "WebApiServer",
    "WebApiClient",
    "RESULT_OK",
    "ERROR_QUEUE_FULL",
    "ERROR_INVALID_ENDPOINT",
    "ERROR_INVALID_METHOD",
    "ERROR_INTERNAL_SERVER",
    "ERROR_UNAUTHORIZED",
    "ERROR_FORBIDDEN",
    "RESULT_ACCEPTED",
    "CommandRequest",
    "WebApiAddressInUseError",
    "TOKEN_ENV_VAR",
    "resolve_token",
]


class WebApiServer:
    """Serves the control API from a daemon thread named ``webapi``.

    Commands received over HTTP wait in a bounded queue (a full queue answers 503)
    for the control thread, which takes them with :meth:`receive_request` and
    answers each with ``succeed()`` or ``fail()``; the HTTP client gets that answer.
    :meth:`receive_command` takes a command and answers it as succeeded at once.
    ``on_command`` tells the control thread that a command arrived.

    :meth:`run_in_background` binds the port in the caller's thread (a busy port
    raises :class:`WebApiAddressInUseError`) and serves from the ``webapi`` thread;
    :meth:`stop` closes the port again.

    Clients that connect and then send slowly or not at all cannot take resources
    the system needs: at most ``max_connections`` connections are open at once (a
    new one replaces the one idle longest, or is closed at once when all are busy),
    and a connection that has not sent a complete request head ``header_timeout``
    seconds after it opened, or after its previous answer, is closed.

    A server bound to anything but loopback (``localhost``, ``127.0.0.0/8``,
    ``::1``) needs an access token. Once a token is set, on any address, every
    request must send ``Authorization: Bearer <token>`` (or ``?token=<token>``);
    others get 401 and change nothing. Without a token, requests whose ``Host`` or
    ``Origin`` header shows they come from a web page of another site get 403.
    """

    DEFAULT_QUEUE_SIZE: ClassVar[int] = 1
    DEFAULT_MAX_CONNECTIONS: ClassVar[int] = 64
    """Enough for a few dashboards, consoles and scripts; far below the usual limit
    of 1024 file descriptors per process."""
    DEFAULT_HEADER_TIMEOUT: ClassVar[float] = 5.0
    """A client on a slow network sends a request head in well under a second."""
    DEFAULT_REPLY_TIMEOUT: ClassVar[float] = 10.0

    def __init__(
        self,
        system_status: StatusSource,
        host: str = "localhost",
        port: int = 8391,
        max_queue_size: int = DEFAULT_QUEUE_SIZE,
        *,
        token: str | None = None,
        on_command: Callable[[], None] | None = None,
        metrics: Callable[..., Mapping[str, Any]] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
    ) -> None:
        """Prepare the server; nothing listens yet.

        Args:
            system_status: Answers status requests.
            host: Address to bind to.
            port: Port to bind to; 0 picks a free one (see :attr:`address`).
            max_queue_size: Commands that may wait for the control thread; 0 or less
                means unlimited.
            token: Access token every request must carry (surrounding whitespace
                is removed). None falls back to the environment variable
                ``PAMIQ_WEB_API_TOKEN``; without either, only a loopback ``host``
                is allowed.
            on_command: Called (on the server thread) after each queued command.
            metrics: Called (on the server thread) for ``GET /api/metrics``; returns
                JSON-ready values such as :meth:`pamiq_core.metrics.Metrics.snapshot`.
                If it takes the keyword ``scalars_since``, as that method does, a
                request's ``?scalars_since=`` is passed on. None: the endpoint
                answers 404 and the dashboard shows the status only.
            max_connections: Connections open at once, at least 1.
            header_timeout: Seconds a connection may take to send a request's head
                (request line and headers), counted from its opening or from its
                previous answer; also how long an idle connection is kept open.
            reply_timeout: Seconds a command request waits for the control thread's
                answer before it is answered 202 (still running); 0 answers at once.

        Raises:
            ValueError: If ``host`` is not loopback and there is no token, the token
                is blank, or a port, limit or timeout is out of range.
        """
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}.")
        if max_connections < 1:
            raise ValueError(
                f"max_connections must be at least 1, got {max_connections}."
            )
        if not (0 < header_timeout < math.inf):
            raise ValueError(
                f"header_timeout must be a positive number of seconds, got "
                f"{header_timeout!r}."
            )
        if not (0 <= reply_timeout < math.inf):
            raise ValueError(
                f"reply_timeout must be a non-negative number of seconds, got "
                f"{reply_timeout!r}."
            )
        self._system_status = system_status
        self._host = host
        self._port = port
        self._token = resolve_token(host, token)
        self._on_command = on_command
        self._metrics = metrics
        self._max_connections = max_connections
        self._header_timeout = header_timeout
        self._reply_timeout = reply_timeout
        self._logger = logging.getLogger(get_class_module_path(type(self)))
        self._requests: queue.Queue[CommandRequest] = queue.Queue(max_queue_size)
        self._lock = threading.Lock()
        """Guards the fields below, which the caller's and the server's threads share."""
        self._built_app: Starlette | None = None
        self._thread: threading.Thread | None = None
        self._runner: ServerRunner | None = None
        self._address: tuple[str, int] | None = None
        self._stop_requested = False
        self._startup_done = threading.Event()

    @property
    def _app(self) -> "Starlette":
        """The ASGI application (built on first use, then kept)."""
        with self._lock:
            if self._built_app is None:
                from ._app import build_app

                self._built_app = build_app(
                    self._system_status,
                    self._submit,
                    self._token,
                    self._logger,
                    metrics=self._metrics,
                    reply_timeout=self._reply_timeout,
                )
            return self._built_app

    @property
    def address(self) -> tuple[str, int] | None:
        """The host and port the server listens on, or None when it does not."""
        return self._address

    def run_in_background(self) -> None:
        """Bind the port now, then serve from the ``webapi`` thread; returns at once.

        Does nothing while the server runs; after :meth:`stop` it starts anew.

        Raises:
            WebApiAddressInUseError: If the address is in use, probably by another
                system.
            OSError: If the address cannot be bound for another reason.
        """
        while True:
            with self._lock:
                thread = self._thread
                if thread is None or not thread.is_alive():
                    self._start()
                    return
                if not self._stop_requested:
                    return
            thread.join()  # a stopping server ends first (in well under a second)

    def _start(self) -> None:
        """Bind and start the thread (with the lock held)."""
        sock = bind_socket(self._host, self._port)
        self._address = (self._host, sock.getsockname()[1])
        self._stop_requested = False
        self._startup_done.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="webapi", daemon=True
        )
        self._thread.start()

    def wait_for_startup(self, timeout: float) -> bool:
        """Wait until the server thread serves, or ended; True if it serves.

        Not needed before connecting: the port accepts connections as soon as
        :meth:`run_in_background` returns, and they are served once it is up.
        """
        self._startup_done.wait(timeout)
        return self._runner is not None

    def connection_stats(self) -> ConnectionStats | None:
        """What the connection limits did since the server started.

        None while the server does not serve.
        """
        runner = self._runner
        return None if runner is None else runner.guard.stats()

    def request_stop(self) -> None:
        """Ask the server to stop and return at once; safe from any thread, any time.

        The port is released within about 0.1 s and the thread ends within about
        0.3 s (:meth:`stop` waits for that). Commands still waiting in the queue
        are answered 503.
        """
        with self._lock:
            self._stop_requested = True
            runner = self._runner
        if runner is not None:
            runner.request_stop()
        self._refuse_waiting_commands()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop serving, release the port and wait for the server thread to end.

        Requests in progress get a moment to finish. Safe to call at any time,
        repeatedly, from any thread; the server may be started again afterwards.

        Args:
            timeout: Seconds to wait for the server thread to end.

        Returns:
            True if the server thread has ended (or never ran).
        """
        self.request_stop()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            self._logger.warning(
                f"The API server on {self._host}:{self._port} did not stop within "
                f"{timeout} seconds."
            )
            return False
        return True

    def _serve(self, sock: "socket.socket") -> None:
        self._logger.info(f"Starting API server on {self._host}:{self._port}")
        try:
            from ._serving import ServerRunner

            runner = ServerRunner(
                self._app,
                sock,
                started=self._startup_done,
                max_connections=self._max_connections,
                header_timeout=self._header_timeout,
            )
            with self._lock:
                if self._stop_requested:
                    return
                self._runner = runner
            runner.run()
        except Exception:
            self._logger.exception(
                f"The API server on {self._host}:{self._port} failed; "
                "the system keeps running without a web API."
            )
        finally:
            sock.close()
            with self._lock:
                self._runner = None
                self._address = None
            self._startup_done.set()
            self._refuse_waiting_commands()

    def _submit(self, request: CommandRequest) -> bool:
        """Queue ``request`` for the control thread; False if the queue is full."""
        if self._stop_requested:
            request.fail(ERROR_STOPPING["error"], 503)
            return True
        try:
            self._requests.put_nowait(request)
        except queue.Full:
            return False
        if self._on_command is not None:
            try:
                self._on_command()
            except Exception:
                self._logger.exception("The command notification failed.")
        return True

    def _refuse_waiting_commands(self) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            request.fail(ERROR_STOPPING["error"], 503)

    def has_commands(self) -> bool:
        """Whether a command is waiting."""
        return not self._requests.empty()

    def receive_request(self) -> CommandRequest:
        """Take the oldest waiting command request without blocking.

        Answer it with ``succeed()`` or ``fail()`` once it was carried out.

        Raises:
            queue.Empty: If no command is waiting.
        """
        return self._requests.get_nowait()

    def receive_command(self) -> ControlCommands:
        """Take the oldest waiting command without blocking; it is answered "ok".

        Raises:
            queue.Empty: If no command is waiting.
        """
        request = self._requests.get_nowait()
        request.succeed()
        return request.command


class WebApiClient:
    """Talks to a :class:`WebApiServer` over HTTP.

    Failures to reach the server, or error answers, come back as
    ``SystemStatus.OFFLINE`` or None rather than exceptions; :attr:`last_error`
    then says what went wrong (a refused token looks offline otherwise).
    """

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        """Prepare a client for the server at ``host``:``port``.

        Args:
            host: The server's host.
            port: The server's port.
            token: Access token to send (surrounding whitespace is removed); None
                falls back to the environment variable ``PAMIQ_WEB_API_TOKEN``.

        Raises:
            ValueError: If ``token`` is blank.
        """
        import httpx

        self.host = host
        self.port = port
        token = configured_token(token)
        if token is None:
            self._client = httpx.Client()
        else:
            self._client = httpx.Client(headers={"Authorization": f"Bearer {token}"})
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self._base_url = f"http://{url_host}:{port}/api"
        self.last_error: str | None = None
        """Why the latest request failed, in a sentence; None after a success."""

    def _request(
        self, method: str, endpoint: str, params: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        """The JSON body of a successful answer; None, with :attr:`last_error`, if not."""
        import httpx

        url = f"{self._base_url}/{endpoint}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            if method == "GET":
                response = self._client.get(url)
            else:
                response = self._client.post(url)
        except httpx.RequestError as error:
            reason = str(error) or type(error).__name__
            self.last_error = f"no answer ({reason}); is the system running?"
            return None
        if response.is_success:
            self.last_error = None
            body: dict[str, Any] = json.loads(response.text)
            return body
        self.last_error = _refusal(response.status_code, response.text)
        return None

    def get_status(self) -> SystemStatus:
        """The server's status, or ``OFFLINE`` if it cannot be had."""
        body = self._request("GET", "status")
        return SystemStatus.OFFLINE if body is None else SystemStatus(body["status"])

    def _command(self, endpoint: str) -> str | None:
        body = self._request("POST", endpoint)
        return None if body is None else str(body["result"])

    def pause(self) -> str | None:
        """Pause the system; the result, or None on failure.

        The result is ``"ok"`` once the command was carried out, ``"accepted"``
        if it was still running when the server answered. On failure,
        :attr:`last_error` holds the server's reason (a failed save says why).
        """
        return self._command("pause")

    def resume(self) -> str | None:
        """Resume the system; the result, or None on failure (as :meth:`pause`)."""
        return self._command("resume")

    def save_state(self) -> str | None:
        """Save a snapshot; the result, or None on failure (as :meth:`pause`)."""
        return self._command("save-state")

    def shutdown(self) -> str | None:
        """Shut the system down; the result, or None on failure (as :meth:`pause`)."""
        return self._command("shutdown")

    def get_metrics(self, scalars_since: str | None = None) -> dict[str, Any] | None:
        """The server's metrics (``GET /api/metrics``), or None on failure.

        None also when the server has no metrics (it answers 404 then).

        Args:
            scalars_since: The ``cursor`` of the scalars of an earlier answer: the
                scalars then hold only what changed after it.
        """
        params = None if scalars_since is None else {SCALARS_SINCE: scalars_since}
        return self._request("GET", "metrics", params)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _refusal(status_code: int, text: str) -> str:
    """A sentence for an error answer: what the server said, and what to do."""
    try:
        detail = str(json.loads(text)["error"])
    except (ValueError, KeyError, TypeError):
        detail = text.strip()[:200]
    if status_code == 401:
        return (
            "the server answered 401 Unauthorized: the access token sent was missing "
            f"or wrong; give the system's token (--token or {TOKEN_ENV_VAR})"
        )
    return f"the server answered {status_code}: {detail}"
