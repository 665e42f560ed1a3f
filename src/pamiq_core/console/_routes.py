"""The web API's endpoints, described once.

The application routes requests by this table and the OpenAPI document is generated
from it, with the types of the answers' bodies; neither repeats a path, a method or
a status code of its own.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pamiq_core.metrics import SCALARS_CURSOR_PATTERN, MetricsSnapshot

from ._commands import ControlCommands
from ._responses import AcceptedBody, ErrorBody, ResultBody, StatusBody

SCALARS_SINCE = "scalars_since"
"""The query parameter of ``GET /api/metrics`` that asks for what is new only."""

JSON = "application/json"
HTML = "text/html"


@dataclass(frozen=True)
class Answer:
    """One possible answer of an endpoint."""

    description: str
    body: type | None = None
    """The TypedDict of a JSON body; None for a body of another media type."""
    media_type: str = JSON


@dataclass(frozen=True)
class QueryParameter:
    """An optional query parameter of an endpoint, a string."""

    name: str
    description: str
    pattern: str | None = None
    """A regular expression every valid value matches."""


@dataclass(frozen=True)
class Endpoint:
    """One method on one path, what it does and how it may answer."""

    method: Literal["GET", "POST"]
    path: str
    operation_id: str
    summary: str
    description: str
    answers: Mapping[int, Answer]
    command: ControlCommands | None = field(default=None)
    """The command a POST endpoint hands to the control thread."""
    parameters: tuple[QueryParameter, ...] = ()


REFUSALS: Mapping[int, Answer] = {
    401: Answer(
        "The server has an access token, and the request lacks it or carries "
        "another (send 'Authorization: Bearer <token>' or '?token=<token>').",
        ErrorBody,
    ),
    403: Answer(
        "The server has no access token, and the request's Host or Origin header "
        "shows that it comes from a web page of another site.",
        ErrorBody,
    ),
}
"""Answers that every endpoint may give before it is reached."""


def _command(
    command: ControlCommands, path: str, operation_id: str, summary: str
) -> Endpoint:
    return Endpoint(
        "POST",
        path,
        operation_id,
        summary,
        "Hands the command to the control thread and waits for its answer, up to "
        "the server's reply timeout. The request body is ignored.",
        {
            200: Answer("The command was carried out.", ResultBody),
            202: Answer(
                "The command was taken up and is still running; follow the status "
                "to see its effect.",
                AcceptedBody,
            ),
            500: Answer("The command failed; the error says why.", ErrorBody),
            503: Answer(
                "The command queue is full (try again later), or the server stopped "
                "before the command was carried out.",
                ErrorBody,
            ),
        },
        command,
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/",
        "getDashboard",
        "The dashboard",
        "A page that draws the metrics and status live and has pause, resume and "
        "save buttons. With an access token, open it as /?token=<token>.",
        {200: Answer("The dashboard page.", media_type=HTML)},
    ),
    Endpoint(
        "GET",
        "/api/status",
        "getStatus",
        "The system status",
        "The integer value of SystemStatus: 1 active, 2 pausing, 3 paused, "
        "4 resuming, 5 shutting down.",
        {
            200: Answer("The current system status.", StatusBody),
            500: Answer("The status could not be determined.", ErrorBody),
        },
    ),
    Endpoint(
        "GET",
        "/api/metrics",
        "getMetrics",
        "The system's metrics",
        "Step periods and rate of the inference loop, training runs, model syncs and "
        "versions, buffer fill, uptime, status, the latest save and failed save, "
        "and the history of the scalars the components logged. Durations are in "
        "seconds.",
        {
            200: Answer("The current metrics.", MetricsSnapshot),
            400: Answer("scalars_since is not a cursor.", ErrorBody),
            404: Answer("This server serves no metrics.", ErrorBody),
            500: Answer("The metrics could not be collected.", ErrorBody),
        },
        parameters=(
            QueryParameter(
                SCALARS_SINCE,
                "The cursor of the scalars of an earlier answer: the scalars then "
                "hold only the series that changed after it, with their newer "
                "points, and the newer events, so a poller receives each point "
                "about once. A cursor of another system (one that restarted) gives "
                "the whole history, as does leaving it out.",
                SCALARS_CURSOR_PATTERN,
            ),
        ),
    ),
    _command(ControlCommands.PAUSE, "/api/pause", "pause", "Pause the system"),
    _command(ControlCommands.RESUME, "/api/resume", "resume", "Resume the system"),
    _command(
        ControlCommands.SAVE_STATE, "/api/save-state", "saveState", "Save a snapshot"
    ),
    _command(
        ControlCommands.SHUTDOWN, "/api/shutdown", "shutdown", "Shut the system down"
    ),
    Endpoint(
        "GET",
        "/openapi.json",
        "getOpenApiDocument",
        "This description",
        "The OpenAPI 3.1 description of every endpoint.",
        {200: Answer("The OpenAPI document.")},
    ),
)
