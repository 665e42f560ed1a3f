"""The HTTP control API of a running system: its server and its client.

Endpoints (JSON in and out):

=========================  =====================================================
``GET /``                  the dashboard: a page that draws the metrics live
``GET /api/status``        ``{"status": <int>}``, the value of :class:`SystemStatus`
``GET /api/metrics``       the system's metrics (when the server has them)
``POST /api/pause``        queue a pause; ``{"result": "ok"}``, 503 if the queue is full
``POST /api/resume``       queue a resume (likewise)
``POST /api/save-state``   queue a snapshot (likewise)
``POST /api/shutdown``     queue a shutdown (likewise)
``GET /openapi.json``      the OpenAPI 3 description of all of the above
=========================  =====================================================

Unknown paths answer 404, known paths with another method 405. A server with an
access token answers 401 to any request that lacks it. Starlette, uvicorn and httpx
are imported only when a server or client is used, so importing this module is
cheap.
"""

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from enum import Enum, auto
from typing import TYPE_CHECKING, Any, ClassVar

from pamiq_core.utils.reflection import get_class_module_path

from ._access import TOKEN_ENV_VAR, client_token, resolve_token
from .system_status import SystemStatus, SystemStatusProvider

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ._serving import StoppableServer

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
    "TOKEN_ENV_VAR",
    "resolve_token",
]

RESULT_OK = {"result": "ok"}
ERROR_QUEUE_FULL = {"error": "Command queue is full, try again later"}
ERROR_INVALID_ENDPOINT = {"error": "Invalid API endpoint"}
ERROR_INVALID_METHOD = {"error": "Invalid API method"}
ERROR_INTERNAL_SERVER = {"error": "Internal server error"}
ERROR_UNAUTHORIZED = {
    "error": "Missing or wrong access token; send 'Authorization: Bearer <token>'"
}
ERROR_FORBIDDEN = {
    "error": "Request refused: its Host or Origin header shows it comes from "
    "another site"
}


class ControlCommands(Enum):
    """Commands the web API queues for the control thread."""

    SHUTDOWN = auto()
    PAUSE = auto()
    RESUME = auto()
    SAVE_STATE = auto()


class WebApiServer:
    """Serves the control API from a daemon thread named ``webapi``.

    Commands received over HTTP are queued without blocking (a full queue answers
    503) and taken by the control thread with :meth:`receive_command`;
    ``on_command`` tells it that one arrived. Nothing listens before
    :meth:`run_in_background`; :meth:`stop` closes the port again.

    A server bound to anything but loopback (``localhost``, ``127.0.0.0/8``,
    ``::1``) needs an access token. Once a token is set, on any address, every
    request must send ``Authorization: Bearer <token>`` (or ``?token=<token>``);
    others get 401 and change nothing. Without a token, requests whose ``Host`` or
    ``Origin`` header shows they come from a web page of another site get 403.
    """

    DEFAULT_QUEUE_SIZE: ClassVar[int] = 1

    def __init__(
        self,
        system_status: SystemStatusProvider,
        host: str = "localhost",
        port: int = 8391,
        max_queue_size: int = DEFAULT_QUEUE_SIZE,
        *,
        token: str | None = None,
        on_command: Callable[[], None] | None = None,
        metrics: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """Prepare the server; nothing listens yet.

        Args:
            system_status: Answers status requests.
            host: Address to bind to.
            port: Port to bind to; 0 picks a free one (see :attr:`address`).
            max_queue_size: Commands that may wait for the control thread; 0 or less
                means unlimited.
            token: Access token every request must carry. None falls back to the
                environment variable ``PAMIQ_WEB_API_TOKEN``; without either, only
                a loopback ``host`` is allowed.
            on_command: Called (on the server thread) after each queued command.
            metrics: Called (on the server thread) for ``GET /api/metrics``; returns
                JSON-ready values such as :meth:`pamiq_core.metrics.Metrics.snapshot`.
                None: the endpoint answers 404 and the dashboard shows the status
                only.

        Raises:
            ValueError: If ``host`` is not loopback and there is no token, or the
                port is out of range.
        """
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}.")
        self._system_status = system_status
        self._host = host
        self._port = port
        self._token = resolve_token(host, token)
        self._on_command = on_command
        self._metrics = metrics
        self._logger = logging.getLogger(get_class_module_path(type(self)))
        self._commands: queue.Queue[ControlCommands] = queue.Queue(max_queue_size)
        self._lock = threading.Lock()
        self._built_app: Starlette | None = None
        self._server: StoppableServer | None = None
        self._address: tuple[str, int] | None = None
        self._stop_requested = False
        self._startup_done = threading.Event()
        self._thread = self._new_thread()

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._serve, name="webapi", daemon=True)

    @property
    def _app(self) -> "Starlette":
        """The ASGI application (built on first use, then kept)."""
        with self._lock:
            if self._built_app is None:
                from ._app import build_app

                self._built_app = build_app(
                    self._system_status,
                    self._commands,
                    self._token,
                    self._on_command,
                    self._logger,
                    metrics=self._metrics,
                )
            return self._built_app

    @property
    def address(self) -> tuple[str, int] | None:
        """The host and port the server listens on, or None when it does not."""
        return self._address

    def run_in_background(self) -> None:
        """Start serving from the ``webapi`` thread and return at once.

        The port is bound on that thread. If it cannot be bound, an error naming
        the address is logged and the system goes on without a web API.
        """
        with self._lock:
            if self._thread.is_alive() and not self._stop_requested:
                return
            previous = self._thread
        if previous.ident is not None:  # it ran before: threads start only once
            previous.join()
            self._thread = self._new_thread()
        with self._lock:
            self._stop_requested = False
            self._startup_done.clear()
        self._thread.start()

    def wait_for_startup(self, timeout: float) -> bool:
        """Wait until the server listens or failed to; True if it listens."""
        self._startup_done.wait(timeout)
        return self._address is not None

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop serving and release the port.

        Requests in progress get a moment to finish. Safe to call at any time,
        repeatedly, from any thread; the server may be started again afterwards.

        Args:
            timeout: Seconds to wait for the server thread to end.

        Returns:
            True if nothing listens any more.
        """
        with self._lock:
            self._stop_requested = True
            server = self._server
        if server is None:  # never bound; a starting thread sees the request
            return True
        server.request_stop()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._logger.warning(
                f"The API server on {self._host}:{self._port} did not stop within "
                f"{timeout} seconds."
            )
            return False
        return True

    def _serve(self) -> None:
        self._logger.info(f"Starting API server on {self._host}:{self._port}")
        try:
            self._serve_until_stopped()
        except Exception:
            self._logger.exception(
                f"The API server on {self._host}:{self._port} failed; "
                "the system keeps running without a web API."
            )
        finally:
            with self._lock:
                self._server = None
                self._address = None
            self._startup_done.set()

    def _serve_until_stopped(self) -> None:
        from ._serving import StoppableServer, bind_socket

        app = self._app
        with self._lock:
            if self._stop_requested:
                return
            try:
                sock = bind_socket(self._host, self._port)
            except OSError as e:
                self._logger.error(
                    f"Cannot serve the web API on {self._host}:{self._port}: {e}. "
                    "The system keeps running without a web API."
                )
                return
            server = StoppableServer(app)
            self._server = server
            bound_port: int = sock.getsockname()[1]
            self._address = (self._host, bound_port)
        self._logger.info(f"API server listening on {self._host}:{bound_port}")
        self._startup_done.set()
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    def has_commands(self) -> bool:
        """Whether a command is waiting."""
        return not self._commands.empty()

    def receive_command(self) -> ControlCommands:
        """Take the oldest waiting command without blocking.

        Raises:
            queue.Empty: If no command is waiting.
        """
        return self._commands.get_nowait()


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
            token: Access token to send; None falls back to the environment
                variable ``PAMIQ_WEB_API_TOKEN``.
        """
        import httpx

        self.host = host
        self.port = port
        token = client_token(token)
        if token is None:
            self._client = httpx.Client()
        else:
            self._client = httpx.Client(headers={"Authorization": f"Bearer {token}"})
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self._base_url = f"http://{url_host}:{port}/api"
        self.last_error: str | None = None
        """Why the latest request failed, in a sentence; None after a success."""

    def _request(self, method: str, endpoint: str) -> dict[str, Any] | None:
        """The JSON body of a successful answer; None, with :attr:`last_error`, if not."""
        import httpx

        url = f"{self._base_url}/{endpoint}"
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
        """Queue a pause; the result (``"ok"``), or None on failure."""
        return self._command("pause")

    def resume(self) -> str | None:
        """Queue a resume; the result, or None on failure."""
        return self._command("resume")

    def save_state(self) -> str | None:
        """Queue a snapshot; the result, or None on failure."""
        return self._command("save-state")

    def shutdown(self) -> str | None:
        """Queue a shutdown; the result, or None on failure."""
        return self._command("shutdown")

    def get_metrics(self) -> dict[str, Any] | None:
        """The server's metrics (``GET /api/metrics``), or None on failure.

        None also when the server has no metrics (it answers 404 then).
        """
        return self._request("GET", "metrics")

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
