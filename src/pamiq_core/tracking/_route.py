"""Where logging calls go: the queue of the one active tracker, or nowhere.

This is the hot path. A call validates its arguments, reads the active queue and
appends a tuple; it takes no lock and does no I/O. With no active tracker (no system
running) records are dropped and counted, and the first such drop is logged once.
"""

import logging
import operator
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, SupportsFloat

from ._queue import DroppingQueue
from ._record import HParamsRecord, Record, flatten_hparams

logger = logging.getLogger("pamiq_core.tracking")

_wall_time = time.time


class _Route:
    """The active tracker's queue and default step, swapped whole on start and stop.

    Ownership: written only by :func:`activate` / :func:`deactivate` (the thread
    that starts and stops a tracker) under ``lock``; read without a lock by every
    logging call. ``active`` is one tuple, replaced in one store, so a call sees
    either the old queue or the new one, never a mix.
    """

    __slots__ = ("active", "lock", "owner", "unrouted")

    def __init__(self) -> None:
        self.active: _Active | None = None
        self.owner: object = None
        self.unrouted = 0
        self.lock = threading.Lock()


_Active = tuple[DroppingQueue[Record], deque[Record], int, Callable[[], int]]
"""The queue, its buffer and capacity (the fast path appends itself), the default step."""

_route = _Route()


def activate(
    owner: object, queue: DroppingQueue[Record], default_step: Callable[[], int]
) -> None:
    """Send every logging call to ``queue`` until :func:`deactivate`.

    Raises:
        RuntimeError: If another tracker is active (one system per process).
    """
    with _route.lock:
        if _route.owner is not None and _route.owner is not owner:
            raise RuntimeError(
                f"Another tracker ({_route.owner!r}) is already running in this "
                "process: only one system can log at a time. Stop it first."
            )
        _route.owner = owner
        _route.active = (queue, queue.buffer, queue.capacity, default_step)


def deactivate(owner: object) -> None:
    """Stop routing calls to ``owner``'s queue (no-op if it is not the active one)."""
    with _route.lock:
        if _route.owner is owner:
            _route.active = None
            _route.owner = None


def active_owner() -> object:
    """The active tracker, or None."""
    return _route.owner


def dropped_without_tracker() -> int:
    """How many scalars and hyperparameter sets were logged while no tracker ran."""
    return _route.unrouted


def _drop_unrouted(what: str) -> None:
    with _route.lock:
        _route.unrouted += 1
        first = _route.unrouted == 1
    if first:
        logger.info(
            f"{what} was logged while no system is running; it is dropped (counted "
            "by pamiq_core.tracking.dropped_without_tracker()). Scalars are kept "
            "while launch() runs, or inside a started Tracker."
        )


def emit_scalar(
    prefix: str,
    name: str,
    value: SupportsFloat,
    step: int | None,
    default_step: Callable[[], int] | None,
) -> None:
    """Check and queue one scalar named ``prefix + name``.

    The queue gets a plain tuple (a ``ScalarRecord`` costs several times more
    to build); the writer turns it into a record, off the caller's thread.

    Raises:
        TypeError: If ``name`` is not a string, ``value`` not a number or
            ``step`` not an integer.
        ValueError: If ``name`` is empty.
    """
    if type(name) is not str or not name:
        check_name(name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _not_a_number(prefix + name, value) from None
    if step is not None and type(step) is not int:
        step = _as_step(prefix + name, step)
    active = _route.active
    if active is None:
        _drop_unrouted(f"Scalar '{prefix}{name}'")
        return
    queue, buffer, capacity, fallback = active
    if step is None:
        step = (default_step or fallback)()
    if len(buffer) < capacity:  # DroppingQueue.put, inlined: one call less
        buffer.append((prefix + name, number, step, _wall_time()))
    else:
        queue.put((prefix + name, number, step, _wall_time()))  # counts the drop


def emit_scalars(
    prefix: str,
    scalars: Mapping[str, SupportsFloat],
    step: int | None,
    default_step: Callable[[], int] | None,
) -> None:
    """Check and queue several scalars of one step; each name gets ``prefix``."""
    if step is not None and type(step) is not int:
        step = _as_step(prefix, step)
    checked: list[tuple[str, float]] = []
    for name, value in scalars.items():
        check_name(name)
        try:
            checked.append((prefix + name, float(value)))
        except (TypeError, ValueError):
            raise _not_a_number(prefix + name, value) from None
    active = _route.active
    if active is None:
        _drop_unrouted(f"Scalars {sorted(scalars)} under '{prefix}'")
        return
    if step is None:
        step = (default_step or active[3])()
    now = _wall_time()
    put = active[0].put
    for name, number in checked:
        put((name, number, step, now))


def _not_a_number(name: str, value: object) -> TypeError:
    return TypeError(
        f"The value of '{name}' must be a number (int, float, a 0-d array or "
        f"tensor), got {type(value).__name__}: {value!r}"
    )


def emit_hparams(prefix: str, hparams: Mapping[str, Any]) -> None:
    """Queue a run's configuration, flattened, each name with ``prefix``."""
    flat = flatten_hparams(hparams, prefix)
    active = _route.active
    if active is None:
        _drop_unrouted(f"Hyperparameters {sorted(flat)}")
        return
    active[0].put(HParamsRecord(flat, _wall_time()))


def check_name(name: str) -> None:
    """Raise a clear error for a name that is not a non-empty string."""
    if type(name) is not str:
        raise TypeError(f"A scalar's name must be a string, got {name!r}.")
    if not name:
        raise ValueError("A scalar's name must not be empty.")


def _as_step(name: str, step: object) -> int:
    try:
        return operator.index(step)  # pyright: ignore[reportArgumentType]
    except TypeError:
        raise TypeError(
            f"The step of '{name}' must be an integer, got {type(step).__name__}: "
            f"{step!r}"
        ) from None


def log_scalar(name: str, value: SupportsFloat, step: int | None = None) -> None:
    """Log ``value`` under ``name`` (used as given) to the running system's loggers.

    Args:
        name: The full series name, e.g. ``"world/temperature"``.
        value: A number (``float()`` is applied: a tensor is read here).
        step: The x coordinate; default the system's inference step count.

    Never blocks and does no I/O; outside a running system the value is dropped
    and counted.
    """
    emit_scalar("", name, value, step, None)


def log_scalars(scalars: Mapping[str, SupportsFloat], step: int | None = None) -> None:
    """Log several values at one step; names are used as given (see :func:`log_scalar`)."""
    emit_scalars("", scalars, step, None)


def log_hparams(hparams: Mapping[str, Any]) -> None:
    """Log a run's configuration; nested mappings are flattened with ``/``."""
    emit_hparams("", hparams)
