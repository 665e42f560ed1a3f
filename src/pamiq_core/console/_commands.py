"""Commands received over HTTP, and the channel that answers them.

The web server's handlers put a :class:`CommandRequest` in a bounded queue and wait
(asynchronously) for the control thread to answer it with ``succeed()`` or
``fail()``. The request object is the only thing the two threads share for a
command: its lock makes the first answer the only one.
"""

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

from ._responses import ErrorBody, ResultBody


class ControlCommands(Enum):
    """Commands the web API queues for the control thread."""

    SHUTDOWN = auto()
    PAUSE = auto()
    RESUME = auto()
    SAVE_STATE = auto()


@dataclass(frozen=True)
class CommandOutcome:
    """The HTTP answer to a command: its status code and JSON body."""

    status_code: int
    body: ResultBody | ErrorBody


@dataclass(eq=False)
class CommandRequest:
    """One command received over HTTP, waiting for the control thread's answer.

    Answer it exactly once, from any thread, with :meth:`succeed` or :meth:`fail`;
    later answers are ignored. The HTTP client gets the answer if it comes within
    the server's ``reply_timeout``, else an "accepted, still running" answer.
    """

    command: ControlCommands
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _outcome: CommandOutcome | None = field(default=None, repr=False)
    _listener: Callable[[CommandOutcome], None] | None = field(default=None, repr=False)

    def succeed(self, detail: Mapping[str, Any] | None = None) -> None:
        """Answer that the command was carried out.

        Args:
            detail: JSON-ready values added to the answer ``{"result": "ok"}``.
        """
        body = ResultBody(result="ok")
        for key, value in (detail or {}).items():
            if key != "result":
                body[key] = value
        self._settle(CommandOutcome(200, body))

    def fail(self, message: str, status_code: int = 500) -> None:
        """Answer that the command failed, saying why.

        Args:
            message: Why, in a sentence the user can act on; sent as ``{"error": ...}``.
            status_code: The HTTP status of the answer, from 400 to 599.

        Raises:
            ValueError: If ``status_code`` is not an HTTP error status.
        """
        if not 400 <= status_code <= 599:
            raise ValueError(
                f"A failed command is answered with an HTTP error status (400 to "
                f"599), got {status_code}."
            )
        self._settle(CommandOutcome(status_code, {"error": message}))

    @property
    def outcome(self) -> CommandOutcome | None:
        """The answer given, or None while the command waits for one."""
        return self._outcome

    def on_answer(self, listener: Callable[[CommandOutcome], None]) -> None:
        """Call ``listener`` with the answer once there is one (at once if there is).

        The listener runs on the answering thread and must not block.
        """
        with self._lock:
            outcome = self._outcome
            if outcome is None:
                self._listener = listener
                return
        listener(outcome)

    def _settle(self, outcome: CommandOutcome) -> None:
        with self._lock:
            if self._outcome is not None:
                return
            self._outcome = outcome
            listener = self._listener
        if listener is not None:
            listener(outcome)
