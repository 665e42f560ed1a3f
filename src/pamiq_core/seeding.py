"""Seeds and random generators, for runs that repeat exactly.

``LaunchConfig(seed=S)`` calls :func:`seed_everything` with ``S`` when the system is
built, and gives every component that mixes in :class:`RandomMixin` generators of
its own, seeded from ``S`` and the component's name in the system
(:func:`derive_seed`): adding or removing a component leaves the other components'
random streams as they were. The snapshot part ``random``
(:class:`SystemRandomness`) keeps the state of every generator, the global ones and
each component's, so a resumed run continues their streams where they stopped.

This module sits at the bottom of the package: it imports nothing above state
persistence, and reaches torch only if the program has imported it.
"""

import contextlib
import hashlib
import random
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from pamiq_core._persistent_state import (
    PersistentStateMixin,
    load_pickle,
    save_pickle,
)

MAX_SEED = 2**32 - 1
"""The largest seed: numpy's global generator takes seeds below ``2**32``."""

STATE_FILE = "generators.pkl"
"""The file the ``random`` part writes in its snapshot directory."""

_STATE_FORMAT = 1


def check_seed(seed: object, where: str) -> int:
    """Return ``seed`` if it is a valid seed, else raise a clear error.

    Args:
        seed: The value given.
        where: Names the argument in the error, such as ``"LaunchConfig.seed"``.

    Raises:
        ValueError: If ``seed`` is not an int from 0 to :data:`MAX_SEED`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(
            f"{where} must be an int from 0 to {MAX_SEED} (2**32 - 1, what numpy's "
            f"global generator accepts) or None; got {seed!r}."
        )
    return seed


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and, if imported, torch.

    Torch is seeded on every device (CPU and CUDA, lazily for CUDA) through
    ``torch.manual_seed``, and only if the program has imported torch: seeding
    never imports it. Call it before building the components whose initial state is
    random (the weights of a network) to make that state repeat too; ``launch``
    calls it again with ``LaunchConfig.seed``.

    Raises:
        ValueError: If ``seed`` is not an int from 0 to :data:`MAX_SEED`.
    """
    check_seed(seed, "seed_everything(seed)")
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "manual_seed"):
        torch.manual_seed(seed)


def derive_seed(seed: int, name: str) -> int:
    """A 64-bit seed for the generator called ``name``, derived from ``seed``.

    Stable across processes, platforms and Python versions (a SHA-256 of both), and
    unrelated for different names, so components' streams do not overlap.
    """
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


class RandomMixin:
    """Gives a component generators of its own: :attr:`rng` and :attr:`np_rng`.

    Draw every random number of the component from them. ``launch`` with a seed
    reseeds them from the seed and the component's name (see :meth:`seed_random`),
    and snapshots keep their state. Without a seed they start from fresh entropy.
    No ``__init__`` is needed: the generators are created when first used.

    Ownership: like the component itself, its generators are used by the thread that
    runs the component.
    """

    _python_generator: random.Random | None = None
    _numpy_generator: np.random.Generator | None = None

    @property
    def rng(self) -> random.Random:
        """This component's Python generator (``random.Random``)."""
        generator = self._python_generator
        if generator is None:
            generator = self._python_generator = random.Random()
        return generator

    @rng.setter
    def rng(self, generator: random.Random) -> None:
        self._python_generator = generator

    @property
    def np_rng(self) -> np.random.Generator:
        """This component's numpy generator (``numpy.random.Generator``)."""
        generator = self._numpy_generator
        if generator is None:
            generator = self._numpy_generator = np.random.default_rng()
        return generator

    @np_rng.setter
    def np_rng(self, generator: np.random.Generator) -> None:
        self._numpy_generator = generator

    def seed_random(self, seed: int) -> None:
        """Start both generators afresh from ``seed`` (``launch`` calls it).

        Override it to seed more generators (call ``super()``); then also extend
        :meth:`random_state` and :meth:`load_random_state`.
        """
        self._python_generator = random.Random(seed)
        self._numpy_generator = np.random.default_rng(seed)

    def random_state(self) -> dict[str, Any]:
        """The generators' states, picklable; None for one never used."""
        python = self._python_generator
        numpy_generator = self._numpy_generator
        state: dict[str, Any] = {"python": None, "numpy": None}
        if python is not None:
            with contextlib.suppress(NotImplementedError):  # SystemRandom has none
                state["python"] = python.getstate()
        if numpy_generator is not None:
            state["numpy"] = numpy_generator.bit_generator.state
        return state

    def load_random_state(self, state: Mapping[str, Any]) -> None:
        """Put the generators back in a state :meth:`random_state` returned.

        A generator whose saved state is None is left as it is.
        """
        python = state.get("python")
        if python is not None:
            self.rng.setstate(python)
        numpy_state = state.get("numpy")
        if numpy_state is not None:
            self._numpy_generator = _numpy_generator_in(numpy_state)


def _numpy_generator_in(state: Mapping[str, Any]) -> np.random.Generator:
    """A numpy generator whose bit generator is in ``state`` (any numpy kind)."""
    kind = getattr(np.random, str(state["bit_generator"]))
    bit_generator = kind()
    bit_generator.state = dict(state)
    return np.random.Generator(bit_generator)


def global_random_state() -> dict[str, Any]:
    """The states of Python's, numpy's and (if imported) torch's global generators.

    Plain, picklable data: torch's states are kept as bytes, so reading them back
    needs torch only to apply them.
    """
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(legacy=False),
    }
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_rng_state"):
        state["torch"] = bytes(torch.get_rng_state().numpy())
        cuda = torch.cuda
        if cuda.is_available() and cuda.is_initialized():
            state["torch_cuda"] = [bytes(s.numpy()) for s in cuda.get_rng_state_all()]
    return state


def set_global_random_state(state: Mapping[str, Any]) -> None:
    """Put the global generators back in a state :func:`global_random_state` gave.

    Torch's states are applied only if torch is imported; CUDA's to the devices
    present (at most as many as were saved).
    """
    if "python" in state:
        random.setstate(state["python"])
    if "numpy" in state:
        np.random.set_state(state["numpy"])
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "set_rng_state"):
        return
    if "torch" in state:
        torch.set_rng_state(_byte_tensor(torch, state["torch"]))
    cuda_states: list[bytes] = state.get("torch_cuda") or []
    if cuda_states and torch.cuda.is_available():
        for device, saved in enumerate(cuda_states[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(_byte_tensor(torch, saved), device)


def _byte_tensor(torch: Any, data: bytes) -> Any:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def random_components(
    roots: Iterable[tuple[str, object]],
) -> list[tuple[str, RandomMixin]]:
    """Every :class:`RandomMixin` among ``roots`` and their parts, each with a name.

    Parts are found as the system finds them: child agents and wrapped
    environments (``_system_parts``), and the parts of containers and wrappers such
    as a modular environment's sensor and actuator (``_hooked_parts``). A part's
    name is its parent's, then ``/`` and its own; a name taken already gets
    ``#2``, ``#3``, ... An object reached twice keeps its first name.
    """
    found: list[tuple[str, RandomMixin]] = []
    names: set[str] = set()
    seen: set[int] = set()

    def visit(name: str, component: object) -> None:
        if id(component) in seen:
            return
        seen.add(id(component))
        if isinstance(component, RandomMixin):
            unique, count = name, 1
            while unique in names:
                count += 1
                unique = f"{name}#{count}"
            names.add(unique)
            found.append((unique, component))
        for child_name, child in _parts(component):
            visit(f"{name}/{child_name}" if child_name else name, child)

    for name, component in roots:
        visit(name, component)
    return found


def _parts(component: object) -> list[tuple[str, object]]:
    parts: list[tuple[str, object]] = []
    for method in ("_system_parts", "_hooked_parts"):
        listed = getattr(component, method, None)
        if not callable(listed):
            continue
        try:
            parts.extend(cast(Iterable[tuple[str, object]], listed()))
        except NotImplementedError:
            continue
    return parts


class SystemRandomness(PersistentStateMixin):
    """The snapshot part ``random``: every generator of a system, saved and restored.

    Built with the system: with a seed it calls :func:`seed_everything` and gives
    each named :class:`RandomMixin` component ``derive_seed(seed, name)``. Its
    state (``<snapshot>/random/generators.pkl``, a pickle of plain data) holds the
    global generators' states and each component's, by name. Loading puts back
    what the snapshot holds; a component the snapshot does not name keeps its
    generators, and a snapshot without this part (older, or PAMIQ-Core 0.6) loads
    as before.

    Components that run in another process (``training="process"``) are left to
    it (:meth:`hand_over`): their generators travel with them, seeded, but are not
    saved.

    Ownership: the launching thread builds and loads it; the control thread saves
    it while the other threads are paused.
    """

    def __init__(
        self, seed: int | None, components: Iterable[tuple[str, RandomMixin]]
    ) -> None:
        """Seed the global generators and each component, unless ``seed`` is None.

        Args:
            seed: The system's seed, or None to seed nothing.
            components: The system's :class:`RandomMixin` components by unique
                name (see :func:`random_components`).
        """
        self._components = dict(components)
        if seed is None:
            return
        check_seed(seed, "seed")
        seed_everything(seed)
        for name, component in self._components.items():
            component.seed_random(derive_seed(seed, name))

    @property
    def components(self) -> dict[str, RandomMixin]:
        """The components whose generators this part saves, by name."""
        return dict(self._components)

    def hand_over(self, components: Iterable[object]) -> None:
        """Stop saving the generators of ``components`` (they run elsewhere now)."""
        moved = {id(c) for c in components}
        self._components = {
            name: c for name, c in self._components.items() if id(c) not in moved
        }

    def state_dict(self) -> dict[str, Any]:
        """The global generators' states and each component's, as plain data."""
        return {
            "format": _STATE_FORMAT,
            "global": global_random_state(),
            "components": {
                name: component.random_state()
                for name, component in self._components.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        set_global_random_state(state.get("global", {}))
        saved: Mapping[str, Any] = state.get("components", {})
        for name, component in self._components.items():
            if name in saved:
                component.load_random_state(saved[name])

    def save_state(self, path: Path) -> None:
        """Create the directory ``path`` with ``generators.pkl``."""
        path.mkdir()
        save_pickle(self.state_dict(), path / STATE_FILE)

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote in ``path``."""
        self.load_state_dict(load_pickle(path / STATE_FILE))
