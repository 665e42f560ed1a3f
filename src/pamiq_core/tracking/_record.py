"""What travels from a logging call to the loggers: small, plain, picklable records."""

import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

HParamValue = bool | int | float | str
"""A value a logger stores as a hyperparameter; other values are stored as text."""


class ScalarRecord(NamedTuple):
    """One logged value of one series.

    A plain tuple, so it pickles cheaply and can cross a process boundary (the
    training side of a process-mode system feeds the same queue this way).
    """

    name: str
    """The full, namespaced series name, e.g. ``trainers/dqn/loss``."""
    value: float
    step: int
    wall_time: float
    """Seconds since the Unix epoch when the value was logged."""


class HParamsRecord(NamedTuple):
    """A run's configuration, flattened to ``/``-separated names."""

    hparams: dict[str, HParamValue]
    wall_time: float


QueuedScalar = tuple[str, float, int, float]
"""A scalar as it waits in the queue: the fields of :class:`ScalarRecord`, in order."""

Record = QueuedScalar | HParamsRecord
"""Anything the queue carries to the writer: plain tuples, cheap to pickle."""


def flatten_hparams(
    hparams: Mapping[str, Any], prefix: str = ""
) -> dict[str, HParamValue]:
    """Flatten nested mappings into ``/``-joined names with storable values.

    ``{"optimizer": {"lr": 0.1}}`` becomes ``{"optimizer/lr": 0.1}``. Booleans and
    strings are kept, other numbers (numpy's too) become ``int`` or ``float``, and
    anything else (``None``, lists, objects) is stored as its ``str()``.

    Raises:
        TypeError: If a key is not a string (the message names its path).
    """
    flat: dict[str, HParamValue] = {}
    for key, value in hparams.items():
        if not isinstance(key, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"hyperparameter names must be strings, got {key!r} "
                f"({type(key).__name__}) under '{prefix or '/'}'."
            )
        name = prefix + key
        if isinstance(value, Mapping):
            flat.update(flatten_hparams(value, name + "/"))  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(value, bool | str):
            flat[name] = value
        elif isinstance(value, numbers.Integral):
            flat[name] = int(value)
        elif isinstance(value, numbers.Real):
            flat[name] = float(value)
        else:
            flat[name] = str(value)
    return flat
