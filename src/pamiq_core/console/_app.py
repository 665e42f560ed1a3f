"""The Starlette application behind :class:`~pamiq_core.console.web_api.WebApiServer`.

Routes come from the endpoint table of :mod:`._routes`; each is served by a small
handler. Imported only when a server needs its application, so that importing
``pamiq_core`` does not pay for Starlette.
"""

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._access import carries_token, is_same_site
from ._commands import CommandOutcome, CommandRequest, ControlCommands
from ._dashboard import dashboard_page
from ._json import json_bytes
from ._openapi import openapi_document
from ._responses import (
    ERROR_FORBIDDEN,
    ERROR_INTERNAL_SERVER,
    ERROR_INVALID_ENDPOINT,
    ERROR_INVALID_METHOD,
    ERROR_QUEUE_FULL,
    ERROR_UNAUTHORIZED,
    RESULT_ACCEPTED,
    ErrorBody,
)
from ._routes import ENDPOINTS, SCALARS_SINCE, Endpoint
from .system_status import StatusSource

Handler = Callable[[Request], Any]

MetricsSource = Callable[..., Mapping[str, Any]]
"""Answers ``GET /api/metrics``: called with no argument, or, if it takes the
keyword ``scalars_since`` (as :meth:`pamiq_core.metrics.Metrics.snapshot` does),
with the request's cursor; a ValueError it raises for that cursor answers 400."""


def takes_scalars_since(metrics: MetricsSource) -> bool:
    """Whether ``metrics`` takes the keyword ``scalars_since``."""
    try:
        parameters = inspect.signature(metrics).parameters
    except (TypeError, ValueError):  # a callable whose signature is not known
        return False
    return SCALARS_SINCE in parameters


class AccessGuard:
    """Refuses requests before routing, so a refused caller learns nothing."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self._app = app
        self._token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = self._refusal(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.lower(), value)
        if self._token is not None:
            if carries_token(
                self._token, headers.get(b"authorization"), scope["query_string"]
            ):
                return None
            return JSONResponse(
                ERROR_UNAUTHORIZED,
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if is_same_site(headers.get(b"host"), headers.get(b"origin")):
            return None
        return JSONResponse(ERROR_FORBIDDEN, status_code=403)


class ReadHandlers:
    """The endpoints that only read: dashboard, status, metrics, API description."""

    def __init__(
        self,
        system_status: StatusSource,
        metrics: MetricsSource | None,
        logger: logging.Logger,
    ) -> None:
        self._system_status = system_status
        self._metrics = metrics
        self._metrics_take_cursor = metrics is not None and takes_scalars_since(metrics)
        self._logger = logger

    async def dashboard(self, request: Request) -> Response:
        page = dashboard_page()
        return Response(page.body, media_type="text/html", headers=page.headers)

    async def status(self, request: Request) -> Response:
        try:
            status = self._system_status.get_current_status()
        except Exception:
            self._logger.exception("Failed to get the system status.")
            return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)
        self._logger.debug(f"Status requested: {status.status_name}.")
        return JSONResponse({"status": status.value})

    async def metrics(self, request: Request) -> Response:
        if self._metrics is None:
            return JSONResponse(ERROR_INVALID_ENDPOINT, status_code=404)
        since = request.query_params.get(SCALARS_SINCE)
        try:
            if since is not None and self._metrics_take_cursor:
                try:
                    metrics = self._metrics(scalars_since=since)
                except ValueError as error:
                    body: ErrorBody = {"error": str(error)}
                    return JSONResponse(body, status_code=400)
            else:
                metrics = self._metrics()
            # In pieces: a long scalar history must not hold the GIL in one go.
            return Response(json_bytes(metrics), media_type="application/json")
        except Exception:
            self._logger.exception("Failed to collect the metrics.")
            return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)

    async def openapi(self, request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")


class CommandHandler:
    """A command endpoint: hands its command over, then waits for the answer."""

    def __init__(
        self,
        command: ControlCommands,
        submit: Callable[[CommandRequest], bool],
        reply_timeout: float,
        logger: logging.Logger,
    ) -> None:
        """Serve ``command``.

        Args:
            command: What the endpoint asks the control thread to do.
            submit: Queues a request without blocking; False when the queue is full.
            reply_timeout: Seconds to wait for the answer before answering 202.
            logger: Where to log.
        """
        self._command = command
        self._submit = submit
        self._reply_timeout = reply_timeout
        self._logger = logger

    async def handle(self, request: Request) -> Response:
        pending = CommandRequest(self._command)
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[CommandOutcome] = loop.create_future()
        pending.on_answer(lambda outcome: _resolve_soon(loop, answered, outcome))
        if not self._submit(pending):
            self._logger.warning(
                f"Refused the {self._command.name} command: the command queue is full."
            )
            return JSONResponse(ERROR_QUEUE_FULL, status_code=503)
        self._logger.info(f"Received the {self._command.name} command.")
        if pending.outcome is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answered, self._reply_timeout)
        outcome = pending.outcome  # also an answer that came just at the deadline
        if outcome is None:
            return JSONResponse(RESULT_ACCEPTED, status_code=202)
        return JSONResponse(outcome.body, status_code=outcome.status_code)


def _resolve_soon(
    loop: asyncio.AbstractEventLoop,
    future: "asyncio.Future[CommandOutcome]",
    outcome: CommandOutcome,
) -> None:
    """Hand ``outcome`` to ``future`` on its loop, from whichever thread answered."""

    def resolve() -> None:
        if not future.done():  # the handler stopped waiting
            future.set_result(outcome)

    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
        loop.call_soon_threadsafe(resolve)


class ErrorHandlers:
    """Answers for unknown paths, wrong methods and unexpected failures."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    async def invalid_endpoint(self, request: Request, exc: Exception) -> Response:
        return JSONResponse(ERROR_INVALID_ENDPOINT, status_code=404)

    async def invalid_method(self, request: Request, exc: Exception) -> Response:
        return JSONResponse(ERROR_INVALID_METHOD, status_code=405)

    async def internal_error(self, request: Request, exc: Exception) -> Response:
        self._logger.error(
            f"Internal error while answering {request.url.path}: {exc!r}"
        )
        return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)


def _handler(
    endpoint: Endpoint,
    reads: ReadHandlers,
    command_handler: Callable[[ControlCommands], CommandHandler],
) -> Handler:
    if endpoint.command is not None:
        return command_handler(endpoint.command).handle
    handlers: dict[str, Handler] = {
        "getDashboard": reads.dashboard,
        "getStatus": reads.status,
        "getMetrics": reads.metrics,
        "getOpenApiDocument": reads.openapi,
    }
    return handlers[endpoint.operation_id]


def build_app(
    system_status: StatusSource,
    submit: Callable[[CommandRequest], bool],
    token: str | None,
    logger: logging.Logger,
    *,
    metrics: MetricsSource | None = None,
    reply_timeout: float = 10.0,
) -> Starlette:
    """Build the application serving the endpoints of the web API.

    Args:
        system_status: Answers ``GET /api/status``.
        submit: Queues a command request without blocking; False if it is full.
        token: The access token every request must carry, or None.
        logger: Where the handlers log.
        metrics: Answers ``GET /api/metrics`` (see :data:`MetricsSource`); None
            answers 404 there.
        reply_timeout: Seconds a command endpoint waits for the control thread's
            answer before answering 202.
    """
    reads = ReadHandlers(system_status, metrics, logger)
    errors = ErrorHandlers(logger)

    def command_handler(command: ControlCommands) -> CommandHandler:
        return CommandHandler(command, submit, reply_timeout, logger)

    routes = [
        Route(e.path, _handler(e, reads, command_handler), methods=[e.method])
        for e in ENDPOINTS
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(AccessGuard, token=token)],
        exception_handlers={
            404: errors.invalid_endpoint,
            405: errors.invalid_method,
            Exception: errors.internal_error,
        },
    )
