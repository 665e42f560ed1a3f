"""Tracking for a launched system: names, step counters, loggers and hooks."""

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from pamiq_core.metrics import ScalarsSummary
from pamiq_core.state_persistence import PersistentStateMixin

from ._component import TrackingMixin, bind_tracking
from ._history import ScalarHistory
from ._hooks import SystemEventMixin, start_components, stop_components
from ._logger import TrackingLogger
from ._tracker import DEFAULT_QUEUE_SIZE, Tracker

logger = logging.getLogger(__name__)

STATE_FILE = "tracking.json"
"""The file this part writes in its snapshot directory."""


def _zero() -> int:
    return 0


def system_components(
    *,
    buffers: Mapping[str, object] | None = None,
    trainers: Mapping[str, object] | None = None,
    environment: object = None,
    agent: object = None,
) -> list[tuple[str, SystemEventMixin]]:
    """Every component with its namespace, in the order the system starts them.

    Order: buffers, trainers, the environment (then the environments it wraps),
    the agent (then its children, depth first, in insertion order). Namespaces:
    ``buffers/<name>``, ``trainers/<name>``, ``environment``, ``agent`` and
    ``agent/<child>/<grandchild>``; a wrapped environment shares ``environment``.
    An object listed twice keeps its first place and name; objects without
    :class:`SystemEventMixin` are left out.
    """
    found: list[tuple[str, SystemEventMixin]] = []
    seen: set[int] = set()

    def visit(namespace: str, component: object) -> None:
        if not isinstance(component, SystemEventMixin) or id(component) in seen:
            return
        seen.add(id(component))
        found.append((namespace, component))
        for name, part in component._system_parts():  # pyright: ignore[reportPrivateUsage]
            visit(f"{namespace}/{name}" if name else namespace, part)

    for name, buffer in (buffers or {}).items():
        visit(f"buffers/{name}", buffer)
    for name, trainer in (trainers or {}).items():
        visit(f"trainers/{name}", trainer)
    visit("environment", environment)
    visit("agent", agent)
    return found


class SystemTracking(PersistentStateMixin):
    """What ``launch`` needs for tracking and the once-per-system hooks.

    Construction names every component (see :func:`system_components`) and gives
    it its default step: a trainer its own ``global_step``; the agent, its
    children and the environment the system's inference step count, which
    continues from the snapshot on resume. :meth:`start` opens the loggers and
    runs every ``on_system_start``; :meth:`stop` runs every ``on_system_stop`` in
    reverse order and closes the loggers.

    Saved state (``<snapshot>/<name>/tracking.json``): the inference step count
    and what each logger asked to keep (an MLflow run id). A snapshot without it
    (PAMIQ-Core 0.6) loads as a fresh start at step 0.

    Ownership: every method runs in the thread that launches the system, except
    :meth:`inference_step` (any thread) and :meth:`save_state` (the control thread,
    with the other threads paused).
    """

    def __init__(
        self,
        *,
        buffers: Mapping[str, object] | None = None,
        trainers: Mapping[str, object] | None = None,
        environment: object = None,
        agent: object = None,
        loggers: Sequence[TrackingLogger] = (),
        inference_steps: Callable[[], int] = _zero,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        history: ScalarHistory | None = None,
    ) -> None:
        """Name the components and prepare the loggers (nothing opens yet).

        Args:
            buffers: Data buffers by name (hooks only).
            trainers: Trainers by name.
            environment: The interaction's environment.
            agent: The interaction's agent.
            loggers: Where the scalars go.
            inference_steps: Inference steps done since this process started
                the system; read when agents and environments log.
            queue_size: See :class:`Tracker`.
            history: See :class:`Tracker`.
        """
        self._components = system_components(
            buffers=buffers, trainers=trainers, environment=environment, agent=agent
        )
        trainer_ids = {id(t) for t in (trainers or {}).values()}
        for namespace, component in self._components:
            if isinstance(component, TrackingMixin):
                own_step = id(component) in trainer_ids
                bind_tracking(
                    component, namespace, None if own_step else self.inference_step
                )
        self._inference_steps = inference_steps
        self._step_offset = 0
        self._resume: dict[str, dict[str, str]] = {}
        self._resumed_from: Path | None = None
        self.tracker = Tracker(
            loggers,
            queue_size=queue_size,
            history=history,
            default_step=self.inference_step,
        )
        """The logging pipeline; its history feeds the dashboard."""
        self.tracker.history.set_namespaces(n for n, _ in self._components)
        self._started = False

    @property
    def components(self) -> list[tuple[str, SystemEventMixin]]:
        """``(namespace, component)`` in start order."""
        return list(self._components)

    def hand_over(self, components: Iterable[object]) -> None:
        """Leave ``components`` to another process's tracking (they run there).

        Their system hooks are not called here; their namespaces stay known, so
        what they log there and is fed here (:meth:`Tracker.feed`) shows as theirs.
        """
        moved = {id(c) for c in components}
        self._components = [
            (namespace, c) for namespace, c in self._components if id(c) not in moved
        ]

    def inference_step(self) -> int:
        """Inference steps since the system first started, across resumes."""
        return self._step_offset + self._inference_steps()

    def start(self) -> None:
        """Open the loggers, then call ``on_system_start`` on every component.

        Call it after the saved state is loaded and before the threads start.

        Raises:
            Exception: What a logger's ``open`` or a start hook raised; the
                components started before it are stopped and the loggers closed.
        """
        self.tracker.start(resumed_from=self._resumed_from, resume=self._resume)
        self._started = True
        self.tracker.record_event("start")
        try:
            start_components(self._components)
        except BaseException:
            self._started = False
            self.tracker.stop()
            raise

    def stop(self) -> None:
        """Call ``on_system_stop`` on every component (reverse order), close loggers.

        Call it after the threads have ended and the final state is saved, also
        after an error. Every hook runs even if others raise; records they log are
        still written.

        Raises:
            ExceptionGroup: The exceptions of the hooks that raised.
        """
        if not self._started:
            return
        self._started = False
        try:
            stop_components(self._components)
        finally:
            self.tracker.record_event("stop")
            self.tracker.stop()

    def record_event(self, kind: str, detail: str | None = None) -> None:
        """Mark ``kind`` (``"pause"``, ``"resume"``, ``"save"``...) on the charts now."""
        self.tracker.record_event(kind, detail)

    def summary(self, since: str | None = None) -> ScalarsSummary:
        """See :meth:`Tracker.summary`."""
        return self.tracker.summary(since)

    def save_state(self, path: Path) -> None:
        """Create directory ``path`` with ``tracking.json`` (steps, logger runs)."""
        path.mkdir()
        # Once the loggers were opened, theirs is the run to resume (even after stop).
        loggers = self.tracker.resume_data if self.tracker.opened else self._resume
        state = {"inference_steps": self.inference_step(), "loggers": loggers}
        (path / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")

    def load_state(self, path: Path) -> None:
        """Read back :meth:`save_state`'s file; a missing ``path`` means a fresh run.

        Raises:
            ValueError: If the file is not what :meth:`save_state` writes.
        """
        file = path / STATE_FILE
        if not file.exists():
            logger.info(
                f"No tracking state at '{path}' (a snapshot of PAMIQ-Core 0.6?): "
                "inference steps count from 0 and loggers start new runs."
            )
            return
        try:
            state = json.loads(file.read_text(encoding="utf-8"))
            offset = int(state["inference_steps"])
            resume = {
                str(key): {str(k): str(v) for k, v in value.items()}
                for key, value in state.get("loggers", {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ValueError(
                f"'{file}' is not a pamiq-core tracking state: {e!r}"
            ) from e
        self._step_offset = offset - self._inference_steps()
        self._resume = resume
        self._resumed_from = path.parent
