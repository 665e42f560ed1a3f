"""The metrics' JSON, encoded mapping by mapping: the same document as json.dumps."""

import json
import math

import pytest

from pamiq_core.console._json import json_bytes

from .conftest import sample_metrics


def test_gives_the_document_json_dumps_gives() -> None:
    snapshot = sample_metrics().snapshot()
    assert json.loads(json_bytes(snapshot)) == json.loads(json.dumps(snapshot))


def test_is_compact_and_keeps_text_as_utf8() -> None:
    value = {"a": [1, 2.5, None], "b": {"c": "temp\u00e9rature", "d": {}}, "e": []}
    assert json_bytes(value) == (
        '{"a":[1,2.5,null],"b":{"c":"temp\u00e9rature","d":{}},"e":[]}'.encode()
    )


def test_values_json_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_bytes({"groups": {"x": [math.nan]}})
    with pytest.raises(TypeError, match="keys must be strings, got 1"):
        json_bytes({"groups": {1: []}})
