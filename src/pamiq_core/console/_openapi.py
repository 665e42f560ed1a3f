"""The OpenAPI 3 description of the web API, served at ``GET /openapi.json``."""

from typing import Any

_JSON = "application/json"


def _json_response(description: str, schema_ref: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def _command(summary: str, operation_id: str, token: bool) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": (
                "Queues the command for the control thread, which handles it at "
                "once. 200 means queued, not done; follow the status to see the "
                "effect. The request body is ignored."
            ),
            "operationId": operation_id,
            "responses": {
                "200": _json_response("The command was queued.", "Result"),
                "503": _json_response(
                    "The command queue is full; try again later.", "Error"
                ),
                **_refusals(token),
            },
        }
    }


def _refusals(token: bool) -> dict[str, Any]:
    if token:
        return {"401": _json_response("The access token is missing or wrong.", "Error")}
    return {
        "403": _json_response(
            "Refused: the Host or Origin header shows a request from another site.",
            "Error",
        )
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_SECONDS = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}


def _record(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _metrics_schemas() -> dict[str, Any]:
    """Component schemas of ``GET /api/metrics`` (durations in seconds)."""
    return {
        "Metrics": _record(
            {
                "time": {
                    "type": "number",
                    "description": "Unix time at which the snapshot was taken.",
                },
                "system": {"$ref": "#/components/schemas/SystemMetrics"},
                "inference": {"$ref": "#/components/schemas/InferenceMetrics"},
                "trainers": {
                    "type": "object",
                    "additionalProperties": {
                        "$ref": "#/components/schemas/TrainerMetrics"
                    },
                },
                "models": {
                    "type": "object",
                    "additionalProperties": {
                        "$ref": "#/components/schemas/ModelMetrics"
                    },
                },
                "buffers": {
                    "type": "object",
                    "additionalProperties": {
                        "$ref": "#/components/schemas/BufferMetrics"
                    },
                },
            },
            "What the running system measures. Null stands for not measured yet.",
        ),
        "SystemMetrics": _record(
            {
                "status": _nullable({"type": "integer", "enum": [1, 2, 3, 4, 5, None]}),
                "status_name": _nullable({"type": "string"}),
                "uptime": _nullable(
                    {
                        "type": "number",
                        "description": "Pamiq seconds since the start (stands "
                        "still while paused, scaled by the time scale).",
                    }
                ),
                "uptime_real": _nullable(
                    {"type": "number", "description": "Real seconds since the start."}
                ),
                "time_scale": {"type": "number"},
                "last_save": _nullable(
                    _record(
                        {"path": {"type": "string"}, "time": {"type": "number"}},
                        "The latest snapshot saved while running, and its Unix time.",
                    )
                ),
            },
            "The system as a whole.",
        ),
        "InferenceMetrics": _record(
            {
                "steps": _COUNT,
                "steps_per_second": {"type": "number", "minimum": 0},
                "period_p50": _nullable(_SECONDS),
                "period_p99": _nullable(_SECONDS),
                "period_max": _nullable(_SECONDS),
                "period_mean": _nullable(_SECONDS),
            },
            "Inference steps in total, and the periods between the recent ones.",
        ),
        "TrainerMetrics": _record(
            {
                "runs": _COUNT,
                "last_duration": _nullable(_SECONDS),
                "mean_duration": _nullable(_SECONDS),
                "last_finished_at": _nullable(_SECONDS),
                "since_last_run": _nullable(_SECONDS),
            },
            "Training runs of one trainer.",
        ),
        "ModelMetrics": _record(
            {
                "syncs": _COUNT,
                "last_sync_duration": _nullable(_SECONDS),
                "training_version": _COUNT,
                "inference_version": _COUNT,
                "versions_behind": _COUNT,
            },
            "Syncs of one model; the versions count training updates, and the "
            "inference version is the training version of the latest sync.",
        ),
        "BufferMetrics": _record(
            {"size": _COUNT, "capacity": _nullable(_COUNT)},
            "Items stored in one buffer, and how many it can hold.",
        ),
    }


def build_openapi_schema(token: bool, *, metrics: bool = False) -> dict[str, Any]:
    """The schema of every endpoint.

    Args:
        token: Whether the server requires an access token; the schema then
            declares bearer authentication and the 401 answers.
        metrics: Whether the server serves ``GET /api/metrics``.
    """
    status_responses = {
        "200": _json_response("The current system status.", "Status"),
        "500": _json_response("The status could not be determined.", "Error"),
        **_refusals(token),
    }
    schema: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "pamiq-core control API",
            "version": "1",
            "description": (
                "Observe and steer a running pamiq-core system. Unknown paths "
                "answer 404 and known paths with another method 405, both with an "
                "Error body."
            ),
        },
        "paths": {
            "/api/status": {
                "get": {
                    "summary": "The system status",
                    "description": (
                        "The integer value of SystemStatus: 1 active, 2 pausing, "
                        "3 paused, 4 resuming, 5 shutting down."
                    ),
                    "operationId": "getStatus",
                    "responses": status_responses,
                },
            },
            "/api/pause": _command("Pause the system", "pause", token),
            "/api/resume": _command("Resume the system", "resume", token),
            "/api/save-state": _command("Save a snapshot", "saveState", token),
            "/api/shutdown": _command("Shut the system down", "shutdown", token),
            "/": {
                "get": {
                    "summary": "The dashboard",
                    "description": (
                        "A page that draws the metrics and status live and has "
                        "pause, resume and save buttons. With an access token, "
                        "open it as /?token=<token>."
                    ),
                    "operationId": "getDashboard",
                    "responses": {
                        "200": {
                            "description": "The dashboard page.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        **_refusals(token),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "getOpenApiSchema",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {_JSON: {"schema": {"type": "object"}}},
                        },
                        **_refusals(token),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Status": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "integer", "enum": [1, 2, 3, 4, 5]}
                    },
                    "required": ["status"],
                    "additionalProperties": False,
                },
                "Result": {
                    "type": "object",
                    "properties": {"result": {"type": "string", "enum": ["ok"]}},
                    "required": ["result"],
                    "additionalProperties": False,
                },
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                    "additionalProperties": False,
                },
            },
        },
    }
    if metrics:
        schema["paths"]["/api/metrics"] = {
            "get": {
                "summary": "The system's metrics",
                "description": (
                    "Step periods and rate of the inference loop, training runs, "
                    "model syncs and versions, buffer fill, uptime, status and the "
                    "latest save. Durations are in seconds."
                ),
                "operationId": "getMetrics",
                "responses": {
                    "200": _json_response("The current metrics.", "Metrics"),
                    "500": _json_response(
                        "The metrics could not be collected.", "Error"
                    ),
                    **_refusals(token),
                },
            }
        }
        schema["components"]["schemas"].update(_metrics_schemas())
    if token:
        schema["components"]["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer"}
        }
        schema["security"] = [{"bearerAuth": []}]
    return schema
