"""The JSON bodies the web API answers with: their types, and the fixed ones.

These types, with those of :mod:`pamiq_core.metrics`, are the one description of the
API's answers: the handlers build their bodies with them, and the OpenAPI document
(``openapi.json``) is generated from them.
"""

from typing import Any, Literal

from typing_extensions import TypedDict


class StatusBody(TypedDict, closed=True):
    """The current system status."""

    status: Literal[1, 2, 3, 4, 5]
    """The value of ``SystemStatus``: 1 active, 2 pausing, 3 paused, 4 resuming,
    5 shutting down."""


class ResultBody(TypedDict, extra_items=Any):
    """The command was carried out; further keys may tell more about it."""

    result: Literal["ok"]


class AcceptedBody(TypedDict, closed=True):
    """The command was taken up but had not finished when the answer was due."""

    result: Literal["accepted"]
    detail: str
    """What the command is doing."""


class ErrorBody(TypedDict, closed=True):
    """The request failed."""

    error: str
    """Why, in a sentence."""


RESULT_OK: ResultBody = {"result": "ok"}
RESULT_ACCEPTED: AcceptedBody = {"result": "accepted", "detail": "still running"}
ERROR_QUEUE_FULL: ErrorBody = {"error": "Command queue is full, try again later"}
ERROR_INVALID_ENDPOINT: ErrorBody = {"error": "Invalid API endpoint"}
ERROR_INVALID_METHOD: ErrorBody = {"error": "Invalid API method"}
ERROR_INTERNAL_SERVER: ErrorBody = {"error": "Internal server error"}
ERROR_UNAUTHORIZED: ErrorBody = {
    "error": "Missing or wrong access token; send 'Authorization: Bearer <token>'"
}
ERROR_FORBIDDEN: ErrorBody = {
    "error": "Request refused: its Host or Origin header shows it comes from "
    "another site"
}
ERROR_STOPPING: ErrorBody = {
    "error": "The web API stopped before the command was carried out"
}
