"""The OpenAPI 3.1 description of the web API, served at ``GET /openapi.json``.

The document is generated at development time from the endpoint table and the
types of the answers (``python -m pamiq_core.console._openapi_build``), committed
as ``openapi.json`` and shipped inside the package, so serving it needs no schema
library. A test regenerates it and fails when the committed file differs.
"""

from functools import cache
from importlib import resources

DOCUMENT_FILE = "openapi.json"
"""The document's file name inside the ``pamiq_core.console`` package."""


@cache
def openapi_document() -> bytes:
    """The committed document, read from the package once."""
    return resources.files("pamiq_core.console").joinpath(DOCUMENT_FILE).read_bytes()
