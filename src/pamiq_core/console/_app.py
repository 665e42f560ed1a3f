"""The Starlette application behind :class:`~pamiq_core.console.web_api.WebApiServer`.

Imported only when a server needs its application, so that importing
``pamiq_core`` does not pay for Starlette.
"""

import logging
import queue
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._access import carries_token, is_same_site
from ._dashboard import dashboard_page
from ._openapi import build_openapi_schema
from .system_status import SystemStatusProvider
from .web_api import (
    ERROR_FORBIDDEN,
    ERROR_INTERNAL_SERVER,
    ERROR_INVALID_ENDPOINT,
    ERROR_INVALID_METHOD,
    ERROR_QUEUE_FULL,
    ERROR_UNAUTHORIZED,
    RESULT_OK,
    ControlCommands,
)


class _AccessGuard:
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


def build_app(
    system_status: SystemStatusProvider,
    commands: "queue.Queue[ControlCommands]",
    token: str | None,
    on_command: Callable[[], None] | None,
    logger: logging.Logger,
    *,
    metrics: Callable[[], Mapping[str, Any]] | None = None,
) -> Starlette:
    """Build the application serving the endpoints of the web API.

    Args:
        system_status: Answers ``GET /api/status``.
        commands: Where the command endpoints put their command, never blocking.
        token: The access token every request must carry, or None.
        on_command: Called after a command was queued.
        logger: Where the handlers log.
        metrics: Answers ``GET /api/metrics``; None leaves that path unknown (404).
    """
    schema = build_openapi_schema(token is not None, metrics=metrics is not None)
    page = dashboard_page()

    async def get_status(request: Request) -> Response:
        try:
            status = system_status.get_current_status()
        except Exception:
            logger.exception("Failed to get the system status.")
            return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)
        logger.debug(f"Status requested: {status.status_name}.")
        return JSONResponse({"status": status.value})

    def command_endpoint(command: ControlCommands) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                commands.put_nowait(command)
            except queue.Full:
                logger.warning(
                    f"Refused the {command.name} command: the command queue is full."
                )
                return JSONResponse(ERROR_QUEUE_FULL, status_code=503)
            logger.info(f"Received the {command.name} command.")
            if on_command is not None:
                try:
                    on_command()
                except Exception:
                    logger.exception("The command notification failed.")
            return JSONResponse(RESULT_OK)

        return endpoint

    async def get_metrics(request: Request) -> Response:
        assert metrics is not None  # routed only when there are metrics
        try:
            return JSONResponse(dict(metrics()))
        except Exception:
            logger.exception("Failed to collect the metrics.")
            return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)

    async def get_dashboard(request: Request) -> Response:
        return Response(page.body, media_type="text/html", headers=page.headers)

    async def get_openapi_schema(request: Request) -> Response:
        return JSONResponse(schema)

    async def invalid_endpoint(request: Request, exc: Exception) -> Response:
        return JSONResponse(ERROR_INVALID_ENDPOINT, status_code=404)

    async def invalid_method(request: Request, exc: Exception) -> Response:
        return JSONResponse(ERROR_INVALID_METHOD, status_code=405)

    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.error(f"Internal error while answering {request.url.path}: {exc!r}")
        return JSONResponse(ERROR_INTERNAL_SERVER, status_code=500)

    routes = [
        Route("/", get_dashboard, methods=["GET"]),
        Route("/api/status", get_status, methods=["GET"]),
        Route("/openapi.json", get_openapi_schema, methods=["GET"]),
    ]
    if metrics is not None:
        routes.append(Route("/api/metrics", get_metrics, methods=["GET"]))
    for path, command in (
        ("/api/pause", ControlCommands.PAUSE),
        ("/api/resume", ControlCommands.RESUME),
        ("/api/shutdown", ControlCommands.SHUTDOWN),
        ("/api/save-state", ControlCommands.SAVE_STATE),
    ):
        routes.append(Route(path, command_endpoint(command), methods=["POST"]))
    return Starlette(
        routes=routes,
        middleware=[Middleware(_AccessGuard, token=token)],
        exception_handlers={
            404: invalid_endpoint,
            405: invalid_method,
            Exception: internal_error,
        },
    )
