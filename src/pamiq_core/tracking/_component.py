"""``log_scalar`` and friends on trainers, agents and environments."""

from collections.abc import Callable, Mapping
from typing import Any, SupportsFloat

from ._route import emit_hparams, emit_scalar, emit_scalars


class TrackingMixin:
    """Lets a component log scalars under its own name in the system.

    When the system is built, each component gets a namespace (for example
    ``trainers/dqn``) and a step counter (its own ``global_step`` for a trainer,
    the inference step count for agents and environments), so that
    ``self.log_scalar("loss", x)`` logs ``trainers/dqn/loss`` at that step. A
    component that is not part of a system logs its names as given, at step 0 (a
    trainer: at its ``global_step``).

    Calls are cheap (about a microsecond) and never block: see
    :mod:`pamiq_core.tracking`.
    """

    # Class-level defaults, so that no subclass __init__ needs to set them; the
    # system replaces them per instance with bind_tracking().
    _tracking_prefix: str = ""
    _tracking_steps: Callable[[], int] | None = None

    def log_scalar(
        self, name: str, value: SupportsFloat, step: int | None = None
    ) -> None:
        """Log ``value`` as ``<namespace>/<name>``.

        Args:
            name: The series name within this component, e.g. ``"loss"`` or
                ``"loss/policy"``.
            value: A number; ``float()`` is applied (a tensor is read here).
            step: The x coordinate; default this component's step counter.

        Raises:
            TypeError: If ``name`` is not a string, ``value`` not a number or
                ``step`` not an integer.
            ValueError: If ``name`` is empty.
        """
        emit_scalar(
            self._tracking_prefix,
            name,
            value,
            step,
            self._tracking_steps or self._tracking_step,
        )

    def log_scalars(
        self, scalars: Mapping[str, SupportsFloat], step: int | None = None
    ) -> None:
        """Log several values at one step, each as ``<namespace>/<name>``."""
        emit_scalars(
            self._tracking_prefix,
            scalars,
            step,
            self._tracking_steps or self._tracking_step,
        )

    def log_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Log this component's configuration as ``<namespace>/<name>`` entries.

        Nested mappings are flattened with ``/``: ``{"optimizer": {"lr": 0.1}}``
        becomes ``<namespace>/optimizer/lr``.
        """
        emit_hparams(self._tracking_prefix, hparams)

    @property
    def tracking_namespace(self) -> str:
        """The prefix of this component's names, e.g. ``trainers/dqn`` ("" if unnamed)."""
        return self._tracking_prefix.removesuffix("/")

    def _tracking_step(self) -> int:
        """The default step when the system gave no step counter (a trainer's own)."""
        return 0


def bind_tracking(
    component: TrackingMixin, namespace: str, steps: Callable[[], int] | None
) -> None:
    """Give ``component`` its namespace and its default step counter."""
    component._tracking_prefix = f"{namespace}/" if namespace else ""  # pyright: ignore[reportPrivateUsage]
    component._tracking_steps = steps  # pyright: ignore[reportPrivateUsage]
