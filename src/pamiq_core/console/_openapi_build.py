"""Generate ``openapi.json`` from the endpoint table and the types of the answers.

Development only: it needs pydantic (the ``dev`` extra), whose JSON Schema generator
turns the TypedDicts of :mod:`pamiq_core.metrics` and :mod:`._responses` into the
document's schemas, their docstrings into descriptions. Regenerate after changing an
endpoint or a type::

    .venv/bin/python -m pamiq_core.console._openapi_build
"""

import argparse
import json
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import is_typeddict

from pamiq_core.metrics import MetricsSnapshot

from ._openapi import DOCUMENT_FILE
from ._responses import AcceptedBody, ErrorBody, ResultBody, StatusBody
from ._routes import ENDPOINTS, REFUSALS, Answer

REGENERATE = "python -m pamiq_core.console._openapi_build"
"""The command that regenerates the committed document."""

COMPONENT_NAMES: Mapping[type, str] = {
    StatusBody: "Status",
    ResultBody: "Result",
    AcceptedBody: "Accepted",
    ErrorBody: "Error",
    MetricsSnapshot: "Metrics",
}
"""Names of the answers' schemas; the types inside them keep their class names."""

_REF = "#/components/schemas/{model}"


class _Schemas(GenerateJsonSchema):
    """pydantic's generator, without a title on every property."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _typed_dicts(annotation: Any) -> Iterator[type]:
    """The TypedDicts ``annotation`` is or contains, at any depth."""
    if is_typeddict(annotation):
        yield annotation
        for hint in typing.get_type_hints(annotation).values():
            yield from _typed_dicts(hint)
    for argument in typing.get_args(annotation):
        yield from _typed_dicts(argument)


def _describe_fields_by_docstrings(body: type) -> None:
    # pydantic reads the docstrings under the fields only when the type's config
    # asks it to; asking here keeps pydantic out of the types' modules.
    for typed_dict in _typed_dicts(body):
        typed_dict.__pydantic_config__ = {"use_attribute_docstrings": True}  # type: ignore[attr-defined]


def _component(body: type, schemas: dict[str, Any]) -> dict[str, str]:
    """A reference to the schema of ``body``, added to ``schemas`` on first use."""
    name = COMPONENT_NAMES[body]
    if name not in schemas:
        _describe_fields_by_docstrings(body)
        schema = TypeAdapter(body).json_schema(
            ref_template=_REF, schema_generator=_Schemas
        )
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return {"$ref": _REF.format(model=name)}


def _response(answer: Answer, schemas: dict[str, Any]) -> dict[str, Any]:
    if answer.body is not None:
        schema = _component(answer.body, schemas)
    elif answer.media_type == "application/json":
        schema = {"type": "object"}
    else:
        schema = {"type": "string"}
    return {
        "description": answer.description,
        "content": {answer.media_type: {"schema": schema}},
    }


def _string_schema(pattern: str | None) -> dict[str, str]:
    return (
        {"type": "string"}
        if pattern is None
        else {"type": "string", "pattern": pattern}
    )


def build_document() -> dict[str, Any]:
    """The OpenAPI document of every endpoint."""
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        answers = {**endpoint.answers, **REFUSALS}
        operation: dict[str, Any] = {
            "operationId": endpoint.operation_id,
            "summary": endpoint.summary,
            "description": endpoint.description,
        }
        if endpoint.parameters:
            operation["parameters"] = [
                {
                    "name": parameter.name,
                    "in": "query",
                    "required": False,
                    "description": parameter.description,
                    "schema": _string_schema(parameter.pattern),
                }
                for parameter in endpoint.parameters
            ]
        operation["responses"] = {
            str(code): _response(answers[code], schemas) for code in sorted(answers)
        }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pamiq-core control API",
            "version": "2",
            "description": (
                "Observe and steer a running pamiq-core system. Unknown paths answer "
                "404 and known paths with another method 405, both with an Error "
                "body. A server with an access token requires it on every request "
                "(401 without); one without a token refuses requests from web pages "
                "of other sites (403)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        # Either no token (a loopback server without one) or a bearer token.
        "security": [{}, {"bearerAuth": []}],
    }


def _one_line_descriptions(value: Any) -> Any:
    """``value`` with each description's line breaks (from docstrings) made spaces."""
    if isinstance(value, dict):
        return {
            key: (
                " ".join(item.split())
                if key == "description" and isinstance(item, str)
                else _one_line_descriptions(item)
            )
            for key, item in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if isinstance(value, list):
        return [_one_line_descriptions(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def render() -> str:
    """The document as the committed file holds it."""
    document = _one_line_descriptions(build_document())
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def document_path() -> Path:
    """Where the committed document lives in the source tree."""
    return Path(__file__).with_name(DOCUMENT_FILE)


def main(argv: list[str] | None = None) -> int:
    """Write the document (or, with ``--check``, tell whether it is up to date)."""
    parser = argparse.ArgumentParser(description="Generate the OpenAPI document.")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file is out of date"
    )
    args = parser.parse_args(argv)
    path = document_path()
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date; run: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
