"""Lifecycle hooks of the parts of an interaction."""


class InteractionEventMixin:
    """``setup`` runs once before the first step, ``teardown`` once after the last.

    Both do nothing by default.
    """

    def setup(self) -> None:
        """Prepare for the first step."""

    def teardown(self) -> None:
        """Release what ``setup`` acquired."""
