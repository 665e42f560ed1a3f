"""Conditions that tell the control thread when to save a snapshot."""

from pamiq_core.utils.schedulers import TimeIntervalScheduler


class PeriodicSaveCondition:
    """A save condition that is true at most once per ``interval`` of pamiq time.

    Pamiq time stands still while the system is paused, so a paused system never
    triggers a save. The interval counts from when the system starts (the control
    thread calls :meth:`restart` then) and from every load of a saved pamiq clock,
    whatever that clock says.
    """

    def __init__(self, interval: float) -> None:
        """Become true each time more than ``interval`` seconds have passed.

        Raises:
            ValueError: If ``interval`` is negative.
        """
        self._due = False
        self._scheduler = TimeIntervalScheduler(interval, self._mark_due)

    def _mark_due(self) -> None:
        self._due = True

    def restart(self) -> None:
        """Count the next interval from now."""
        self._due = False
        self._scheduler.restart()

    def __call__(self) -> bool:
        """Whether a save is due now; resets until the next interval has passed."""
        self._scheduler.update()
        due, self._due = self._due, False
        return due
