"""Threads of a running system and the signals between them."""

from .thread_control import (
    ControllerCommandHandler,
    ReadOnlyController,
    ReadOnlyThreadStatus,
    ThreadController,
    ThreadEventMixin,
    ThreadStatus,
    ThreadStatusesMonitor,
)
from .thread_types import ThreadTypes

__all__ = [
    "ThreadTypes",
    "ThreadController",
    "ReadOnlyController",
    "ControllerCommandHandler",
    "ThreadStatus",
    "ReadOnlyThreadStatus",
    "ThreadStatusesMonitor",
    "ThreadEventMixin",
]
