"""Check JSON values against a schema of the server's OpenAPI document."""

from typing import Any

import jsonschema_rs


def _as_json_schema(value: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` turned into JSON Schema's ``null`` type."""
    if isinstance(value, list):
        return [_as_json_schema(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {k: _as_json_schema(v) for k, v in value.items() if k != "nullable"}
    if value.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


def schema_validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A validator for ``#/components/schemas/<name>`` of the OpenAPI ``document``."""
    return jsonschema_rs.validator_for(
        {
            "$ref": f"#/components/schemas/{name}",
            "components": _as_json_schema(document["components"]),
        }
    )
