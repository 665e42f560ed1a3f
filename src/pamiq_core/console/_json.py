"""JSON for answers that may be large, encoded in pieces to spare the agent.

``json.dumps`` is C code that holds the GIL until the whole document is encoded:
for the full history of a few dozen logged series that is tens of milliseconds, a
stall of several steps for a 100 Hz agent. Encoding the mappings key by key, each
value (a list of a few hundred numbers at most) in its own call, lets the
interpreter switch to the agent's thread between pieces.
"""

import json
from collections.abc import Mapping
from typing import Any

_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
).encode


def json_bytes(value: object) -> bytes:
    """``value`` as compact, strict JSON (no NaN), encoded mapping by mapping.

    Raises:
        ValueError: For a float that is not finite.
        TypeError: For a value JSON cannot represent.
    """
    pieces: list[str] = []
    _append(value, pieces)
    return "".join(pieces).encode()


def _append(value: object, pieces: list[str]) -> None:
    if not isinstance(value, Mapping):
        pieces.append(_encode(value))
        return
    mapping: Mapping[Any, object] = value  # pyright: ignore[reportUnknownVariableType]
    pieces.append("{")
    for index, (key, item) in enumerate(mapping.items()):
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be strings, got {key!r}.")
        pieces.append(_encode(key) + ":" if index == 0 else "," + _encode(key) + ":")
        _append(item, pieces)
    pieces.append("}")
