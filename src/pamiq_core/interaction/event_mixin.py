"""Lifecycle hooks of the parts of an interaction, and their forwarding to sub-parts."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from typing_extensions import override

from pamiq_core.state_persistence import PersistentStateMixin
from pamiq_core.thread import ThreadEventMixin
from pamiq_core.utils.errors import call_each
from pamiq_core.utils.init_check import InitChecked
from pamiq_core.utils.naming import warn_misspelt_hooks


class InteractionEventMixin:
    """``setup`` runs once before the first step, ``teardown`` once after the last.

    Both do nothing by default. A subclass method whose name looks like a misspelt
    ``on_*`` hook gets a :class:`~pamiq_core.utils.naming.HookNameWarning`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Warn about methods whose names look like misspelt hooks."""
        super().__init_subclass__(**kwargs)
        warn_misspelt_hooks(cls)

    def setup(self) -> None:
        """Prepare for the first step."""

    def teardown(self) -> None:
        """Release what ``setup`` acquired."""


class HookedPart(Protocol):
    """What :class:`PartsForwardingMixin` forwards to: every hook and the state."""

    def setup(self) -> None:
        """See :class:`InteractionEventMixin`."""

    def teardown(self) -> None:
        """See :class:`InteractionEventMixin`."""

    def on_paused(self) -> None:
        """See :class:`~pamiq_core.thread.ThreadEventMixin`."""

    def on_resumed(self) -> None:
        """See :class:`~pamiq_core.thread.ThreadEventMixin`."""

    def save_state(self, path: Path) -> None:
        """See :class:`~pamiq_core.state_persistence.PersistentStateMixin`."""

    def load_state(self, path: Path) -> None:
        """See :class:`~pamiq_core.state_persistence.PersistentStateMixin`."""


class PartsForwardingMixin(
    InteractionEventMixin, PersistentStateMixin, ThreadEventMixin, InitChecked
):
    """Forwards every hook and the state to named parts, in the order given.

    The containers and wrappers of an interaction use it, so that a hook reaches
    every leaf however deeply it is nested. Each hook first runs this class's
    base hook (``super()``), then the parts'. ``save_state(path)`` creates the
    directory ``path`` (``FileExistsError`` if it exists) and saves each part to
    ``path / <name>``; ``load_state`` reads them back from there.
    """

    def _hooked_parts(self) -> Iterable[tuple[str, HookedPart]]:
        """The parts, with the names of their state entries, in hook order."""
        raise NotImplementedError

    @override
    def setup(self) -> None:
        super().setup()
        for _, part in self._hooked_parts():
            part.setup()

    @override
    def teardown(self) -> None:
        """Tear down this object, then each part, reaching every one of them.

        The order is the spec's (as ``setup``); a part that raises does not keep
        the next ones from being torn down; their errors are raised together.
        """
        call_each(
            [super().teardown, *(part.teardown for _, part in self._hooked_parts())],
            "teardowns",
        )

    @override
    def on_paused(self) -> None:
        super().on_paused()
        for _, part in self._hooked_parts():
            part.on_paused()

    @override
    def on_resumed(self) -> None:
        super().on_resumed()
        for _, part in self._hooked_parts():
            part.on_resumed()

    @override
    def save_state(self, path: Path) -> None:
        super().save_state(path)
        path.mkdir()
        for name, part in self._hooked_parts():
            part.save_state(path / name)

    @override
    def load_state(self, path: Path) -> None:
        super().load_state(path)
        for name, part in self._hooked_parts():
            part.load_state(path / name)
