"""Signals between the control thread and the background threads."""


class ThreadEventMixin:
    """Hooks called when the system pauses and resumes (no-ops by default).

    Background threads call ``on_paused`` after they stop stepping and ``on_resumed``
    before they step again, in the thread that owns the object.
    """

    def on_paused(self) -> None:
        """React to the system pausing."""

    def on_resumed(self) -> None:
        """React to the system resuming."""
