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


def build_openapi_schema(token: bool) -> dict[str, Any]:
    """The schema of every endpoint.

    Args:
        token: Whether the server requires an access token; the schema then
            declares bearer authentication and the 401 answers.
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
    if token:
        schema["components"]["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer"}
        }
        schema["security"] = [{"bearerAuth": []}]
    return schema
