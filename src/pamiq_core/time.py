"""Pamiq time: clocks that the running system can pause and speed up.

All framework timing goes through this module. Its clocks follow the real ones, scaled
by a time scale, and stand still while the system is paused. :func:`sleep` sleeps in
pamiq time: it waits out a pause instead of returning early, and a scale change during
the sleep changes how much real time remains.

In *virtual time* (lock-step mode, :meth:`TimeController.use_virtual_time`) the clocks
do not follow the real ones at all: they move only when told to (:func:`advance`), and
:func:`sleep` moves them by the time asked instead of waiting, so an hour of pamiq
time passes as fast as the program runs, the same way in every run.

The module-level functions are bound methods of one global :class:`TimeController`.
Framework code always calls them through the module (``time.time()``), so tests can
patch ``pamiq_core.time.time`` and friends.
"""

import functools
import math
import threading
import time as _std_time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, NamedTuple, ParamSpec, TypedDict, TypeVar

from pamiq_core._persistent_state import (
    PersistentStateMixin,
    load_pickle,
    save_pickle,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")
_C = TypeVar("_C", bound="TimeController")


class InvalidTimeScaleError(ValueError, AssertionError):
    """A time scale that is not a positive finite number.

    It is a :class:`ValueError`, and also an :class:`AssertionError` because that is
    what PAMIQ-Core 0.6 raised for the same mistake.
    """


class _Anchors(NamedTuple):
    """One consistent reading of the clocks' parameters, replaced as a whole.

    A named tuple, not a dataclass: virtual time makes a new one at every agent
    step, and a tuple is the cheapest immutable object to build.
    """

    is_paused: bool
    time_scale: float
    is_virtual: bool
    raw_time: float
    raw_perf_counter: float
    raw_monotonic: float
    scaled_time: float
    scaled_perf_counter: float
    scaled_monotonic: float


class TimeController(PersistentStateMixin):
    """A pausable, scalable set of clocks: ``time``, ``perf_counter``, ``monotonic``.

    Each clock reads ``scaled_anchor + (real_now - raw_anchor) * time_scale`` while
    running and ``scaled_anchor`` while paused. Anchors are retaken whenever the
    scale, the pause state or the loaded state changes, so readings never jump.

    In virtual time (:meth:`use_virtual_time`) every clock reads its anchor, which
    only :meth:`advance` and :meth:`sleep` move: each adds the same number of
    seconds to the three readings, so a run that repeats the same calls from the
    same readings reads the same times, bit for bit, and a run resumed from
    :meth:`state_dict` continues exactly as if it had not stopped.

    Thread safety: every change happens under one re-entrant lock and publishes a
    new immutable :class:`_Anchors` object with a single attribute store. Reading a
    clock takes no lock: it reads that object once, so it always sees one consistent
    set of anchors. Sleepers wait on a condition of the lock, released while they
    wait, and are woken by every pause, resume, scale change and state load.
    """

    class TimeControllerState(TypedDict):
        """What :meth:`state_dict` returns: the three pamiq clock readings."""

        scaled_anchor_time: float
        scaled_anchor_monotonic: float
        scaled_anchor_perf_counter: float

    @staticmethod
    def with_lock(
        method: Callable[Concatenate[_C, _P], _R],
    ) -> Callable[Concatenate[_C, _P], _R]:
        """Decorate a method so it runs while holding the controller's lock."""

        @functools.wraps(method)
        def locked(self: _C, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            with self._lock:
                return method(self, *args, **kwargs)

        return locked

    def __init__(self) -> None:
        """Start running at scale 1.0, reading the same as the real clocks."""
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        now_time = _std_time.time()
        now_perf_counter = _std_time.perf_counter()
        now_monotonic = _std_time.monotonic()
        self._last_loaded: TimeController.TimeControllerState | None = None
        self._anchors = _Anchors(
            is_paused=False,
            time_scale=1.0,
            is_virtual=False,
            raw_time=now_time,
            raw_perf_counter=now_perf_counter,
            raw_monotonic=now_monotonic,
            scaled_time=now_time,
            scaled_perf_counter=now_perf_counter,
            scaled_monotonic=now_monotonic,
        )

    def _publish(
        self,
        *,
        is_paused: bool | None = None,
        time_scale: float | None = None,
        is_virtual: bool | None = None,
        scaled: tuple[float, float, float] | None = None,
    ) -> None:
        """Re-anchor at now (or at ``scaled`` readings) and apply the changes.

        Call with the lock held.
        """
        old = self._anchors
        if scaled is None:
            scaled = (self.time(), self.perf_counter(), self.monotonic())
        self._anchors = _Anchors(
            is_paused=old.is_paused if is_paused is None else is_paused,
            time_scale=old.time_scale if time_scale is None else time_scale,
            is_virtual=old.is_virtual if is_virtual is None else is_virtual,
            raw_time=_std_time.time(),
            raw_perf_counter=_std_time.perf_counter(),
            raw_monotonic=_std_time.monotonic(),
            scaled_time=scaled[0],
            scaled_perf_counter=scaled[1],
            scaled_monotonic=scaled[2],
        )
        self._changed.notify_all()

    def is_paused(self) -> bool:
        """Whether the clocks are paused."""
        return self._anchors.is_paused

    def time(self) -> float:
        """Pamiq seconds since the epoch."""
        a = self._anchors
        if a.is_paused or a.is_virtual:
            return a.scaled_time
        return a.scaled_time + (_std_time.time() - a.raw_time) * a.time_scale

    def perf_counter(self) -> float:
        """Pamiq performance counter, for measuring short spans."""
        a = self._anchors
        if a.is_paused or a.is_virtual:
            return a.scaled_perf_counter
        elapsed = _std_time.perf_counter() - a.raw_perf_counter
        return a.scaled_perf_counter + elapsed * a.time_scale

    def monotonic(self) -> float:
        """Pamiq monotonic clock."""
        a = self._anchors
        if a.is_paused or a.is_virtual:
            return a.scaled_monotonic
        elapsed = _std_time.monotonic() - a.raw_monotonic
        return a.scaled_monotonic + elapsed * a.time_scale

    @with_lock
    def set_time_scale(self, time_scale: float) -> None:
        """Make pamiq time run ``time_scale`` times as fast as real time.

        Allowed while paused: the clocks stay frozen and the new rate applies after
        resume.

        Raises:
            InvalidTimeScaleError: If ``time_scale`` is not a positive finite number.
        """
        if not (time_scale > 0 and math.isfinite(time_scale)):
            raise InvalidTimeScaleError(
                f"Time scale must be > 0 and finite, got {time_scale!r}."
            )
        self._publish(time_scale=float(time_scale))

    def get_time_scale(self) -> float:
        """The current time scale."""
        return self._anchors.time_scale

    @with_lock
    def pause(self) -> None:
        """Freeze the clocks (idempotent)."""
        if not self._anchors.is_paused:
            self._publish(is_paused=True)

    @with_lock
    def resume(self) -> None:
        """Let the clocks run again from where they stopped (idempotent)."""
        if self._anchors.is_paused:
            self._publish(is_paused=False)

    def sleep(self, secs: float) -> None:
        """Sleep for ``secs`` seconds of pamiq time.

        While the clocks are paused the sleeper waits, without using the CPU, until
        they resume. A scale change during the sleep applies to the rest of it. In
        virtual time the sleep takes no real time: once the clocks run, it
        advances them by ``secs`` and returns.

        Raises:
            ValueError: If ``secs`` is negative or not a number.
        """
        if not secs >= 0:
            raise ValueError(f"sleep length must be non-negative, got {secs!r}.")
        with self._lock:
            deadline = self.monotonic() + secs
            while True:
                anchors = self._anchors
                if anchors.is_paused:
                    self._changed.wait()
                    continue
                if anchors.is_virtual:
                    self._advance(secs)
                    return
                remaining = deadline - self.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining / anchors.time_scale)

    def is_virtual(self) -> bool:
        """Whether the clocks are virtual (see :meth:`use_virtual_time`)."""
        return self._anchors.is_virtual

    @with_lock
    def use_virtual_time(
        self, readings: "TimeController.TimeControllerState | None" = None
    ) -> None:
        """Make the clocks virtual: they move only through :meth:`advance` and :meth:`sleep`.

        Args:
            readings: Where the three clocks start (for example
                :data:`VIRTUAL_EPOCH`); None keeps the current readings.

        The pause state and the time scale are kept; the scale has no effect on
        virtual clocks. Already virtual, the clocks only move to ``readings``.
        """
        if readings is None:
            self._publish(is_virtual=True)
            return
        self._publish(
            is_virtual=True,
            scaled=(
                readings["scaled_anchor_time"],
                readings["scaled_anchor_perf_counter"],
                readings["scaled_anchor_monotonic"],
            ),
        )

    @with_lock
    def use_real_time(self) -> None:
        """Make the clocks follow the real ones again, from where they stand (idempotent).

        So code that runs after a lock-step run reads pamiq time going on from the
        run's last reading, as after a run in real time.
        """
        if self._anchors.is_virtual:
            self._publish(is_virtual=False)

    def advance(self, secs: float) -> None:
        """Move the virtual clocks forward by ``secs`` seconds, at once.

        It moves them even while paused: whoever advances the clocks decides.

        Raises:
            RuntimeError: If the clocks are not virtual.
            ValueError: If ``secs`` is negative or not finite.
        """
        if not (secs >= 0 and math.isfinite(secs)):
            raise ValueError(
                f"advance() takes a finite, non-negative number of seconds, got {secs!r}."
            )
        with self._lock:
            if not self._anchors.is_virtual:
                raise RuntimeError(
                    "advance() needs virtual time (use_virtual_time()); the clocks "
                    "follow the real ones."
                )
            self._advance(secs)

    def _advance(self, secs: float) -> None:
        """Add ``secs`` to each virtual reading. Call with the lock held.

        Wakes nobody: sleepers in virtual time wait only for a resume.
        """
        a = self._anchors
        self._anchors = _Anchors(
            a.is_paused,
            a.time_scale,
            a.is_virtual,
            a.raw_time,
            a.raw_perf_counter,
            a.raw_monotonic,
            a.scaled_time + secs,
            a.scaled_perf_counter + secs,
            a.scaled_monotonic + secs,
        )

    @with_lock
    def state_dict(self) -> "TimeController.TimeControllerState":
        """The current pamiq clock readings, to be restored by :meth:`load_state_dict`.

        Reading the state never moves the clocks.
        """
        self._publish()
        a = self._anchors
        return {
            "scaled_anchor_time": a.scaled_time,
            "scaled_anchor_monotonic": a.scaled_monotonic,
            "scaled_anchor_perf_counter": a.scaled_perf_counter,
        }

    @with_lock
    def load_state_dict(self, state_dict: "TimeController.TimeControllerState") -> None:
        """Continue the clocks from saved readings.

        Real time that passed while the system was down is not counted. The scale and
        the pause state are unchanged.
        """
        self._last_loaded = dict(state_dict)  # type: ignore[assignment]
        self._publish(
            scaled=(
                state_dict["scaled_anchor_time"],
                state_dict["scaled_anchor_perf_counter"],
                state_dict["scaled_anchor_monotonic"],
            )
        )

    def last_loaded_state(self) -> "TimeController.TimeControllerState | None":
        """The readings the latest :meth:`load_state_dict` set (None before any).

        A running clock has moved on from them since; lock-step mode starts its
        virtual clocks exactly there, so that a resumed run reads the same times
        as the run that saved the state.
        """
        loaded = self._last_loaded
        return None if loaded is None else loaded.copy()

    def mirror(self) -> "ClockMirror":
        """Everything another process needs to read the same clocks as this one.

        Unlike :meth:`state_dict`, it carries the real-clock anchors, so a process
        that :meth:`follow` s it reads the same pamiq time however long the
        message took (the real clocks are shared by the processes of one host).
        """
        return ClockMirror(self._anchors)

    @with_lock
    def follow(self, mirror: "ClockMirror") -> None:
        """Read the same clocks as the controller that made ``mirror``.

        Pause state and scale come with it; sleepers wake to re-check.
        """
        self._anchors = mirror.anchors
        self._changed.notify_all()

    def save_state(self, path: Path) -> None:
        """Pickle :meth:`state_dict` to ``path`` with the suffix ``.pkl``."""
        save_pickle(self.state_dict(), path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote for ``path``."""
        self.load_state_dict(load_pickle(path.with_suffix(".pkl")))


@dataclass(frozen=True)
class ClockMirror:
    """A picklable copy of a :class:`TimeController`'s clocks (see ``mirror``)."""

    anchors: _Anchors


VIRTUAL_EPOCH: TimeController.TimeControllerState = {
    "scaled_anchor_time": 0.0,
    "scaled_anchor_monotonic": 0.0,
    "scaled_anchor_perf_counter": 0.0,
}
"""Where virtual clocks start in a lock-step run that resumes no snapshot: all at 0."""

_time_controller = TimeController()


def get_global_time_controller() -> TimeController:
    """The controller behind the module-level functions."""
    return _time_controller


is_paused = _time_controller.is_paused
sleep = _time_controller.sleep
time = _time_controller.time
perf_counter = _time_controller.perf_counter
monotonic = _time_controller.monotonic
set_time_scale = _time_controller.set_time_scale
get_time_scale = _time_controller.get_time_scale
pause = _time_controller.pause
resume = _time_controller.resume
state_dict = _time_controller.state_dict
load_state_dict = _time_controller.load_state_dict
is_virtual = _time_controller.is_virtual
advance = _time_controller.advance

fixed_sleep = _std_time.sleep
fixed_time = _std_time.time
fixed_perf_counter = _std_time.perf_counter
"""Real (unscaled, never paused) clocks, for measuring how long work really took."""
