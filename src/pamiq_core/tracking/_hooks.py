"""Once-per-system hooks: open resources when a system starts, close them when it stops."""

import logging
from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)


class SystemEventMixin:
    """``on_system_start`` and ``on_system_stop``, called once per system run.

    ``on_system_start`` runs after the saved state is loaded and before any thread
    starts; ``on_system_stop`` after every thread has ended and the final state is
    saved, also when the system stops because of an error. Both run in the thread
    that launched the system and do nothing by default. Use them to open and close
    what lives as long as the system (a file, a device, a connection) instead of a
    module-level global; ``setup``/``teardown`` of trainers, by contrast, run around
    every training run.
    """

    def on_system_start(self) -> None:
        """Called once when the system starts, after its state is loaded."""

    def on_system_stop(self) -> None:
        """Called once when the system stops, after the final save, even after an error."""

    def _system_parts(self) -> Iterable[tuple[str, "SystemEventMixin"]]:
        """Sub-components that get their own hooks, with their names (none here).

        A part named ``""`` shares this component's namespace (a wrapped
        environment); any other name nests under it (a child agent).
        """
        return ()


def start_components(components: Sequence[tuple[str, SystemEventMixin]]) -> None:
    """Call ``on_system_start`` on each component, in order.

    If one raises, the components started before it are stopped in reverse order
    (their errors logged), and the error is raised with a note naming the
    component.
    """
    for index, (name, component) in enumerate(components):
        try:
            component.on_system_start()
        except Exception as e:
            e.add_note(f"(in on_system_start of {name}: {type(component).__name__})")
            try:
                stop_components(components[:index])
            except ExceptionGroup as group:
                logger.error(
                    "While undoing a failed system start, stop hooks also failed: "
                    f"{group.exceptions!r}"
                )
            raise


def stop_components(components: Sequence[tuple[str, SystemEventMixin]]) -> None:
    """Call ``on_system_stop`` on each component in reverse order, every one of them.

    Raises:
        ExceptionGroup: After all ran, holding every exception a hook raised, each
            with a note naming its component.
    """
    errors: list[Exception] = []
    for name, component in reversed(components):
        try:
            component.on_system_stop()
        except Exception as e:
            e.add_note(f"(in on_system_stop of {name}: {type(component).__name__})")
            errors.append(e)
    if errors:
        raise ExceptionGroup(
            f"on_system_stop failed in {len(errors)} component(s)", errors
        )
