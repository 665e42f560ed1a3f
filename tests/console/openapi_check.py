"""Check JSON values against a schema of the server's OpenAPI document."""

from typing import Any

import jsonschema_rs


def schema_validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A validator for ``#/components/schemas/<name>`` of the OpenAPI ``document``.

    The document is OpenAPI 3.1, whose schemas are JSON Schema (2020-12) as is.
    """
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def answer_validator(
    document: dict[str, Any], method: str, path: str, status: int
) -> jsonschema_rs.Validator:
    """A validator for the JSON body the document promises for this answer.

    Raises:
        KeyError: If the document does not describe the answer.
    """
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})
