"""Buffers that, once full, overwrite a random slot with each kept new item.

Unlike a FIFO window, old items survive for a random time, so the buffer keeps a
spread of data from far back while still taking in new data.
"""

import math
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from typing_extensions import override

from pamiq_core.data.buffer import DataBuffer
from pamiq_core.seeding import RandomMixin
from pamiq_core.state_persistence import load_pickle, save_pickle

from ._keyed import KeyedBuffer

T = TypeVar("T")

_EULER_GAMMA = 0.5772156649015329


class NonPositiveArgumentError(ValueError, ZeroDivisionError):
    """An argument that must be positive was zero or negative.

    It is a :class:`ValueError`, and also a :class:`ZeroDivisionError` because that
    is what PAMIQ-Core 0.6 raised for the same mistake.
    """


def _choose_replace_probability(
    max_size: int,
    replace_probability: float | None,
    expected_survival_length: int | None,
) -> float:
    if max_size < 0:
        raise ValueError(
            "max_queue_size must be non-negative. It is computed from max_size; "
            f"got max_size={max_size}."
        )
    if max_size == 0:
        raise ValueError(
            "max_size must be positive: a buffer that holds nothing would discard "
            "every item. Got max_size=0."
        )
    if replace_probability is None:
        if expected_survival_length is None:
            probability = 1.0
        elif expected_survival_length <= 0:
            raise NonPositiveArgumentError(
                "expected_survival_length must be positive, "
                f"got {expected_survival_length}."
            )
        else:
            probability = RandomReplacementBuffer.compute_replace_probability_from_expected_survival_length(
                max_size, expected_survival_length
            )
    elif expected_survival_length is not None:
        raise ValueError(
            "Cannot specify both replace_probability and expected_survival_length. "
            "Please specify only one of them."
        )
    else:
        probability = replace_probability
    if not 0.0 <= probability <= 1.0:
        raise ValueError("replace_probability must be between 0.0 and 1.0 inclusive")
    if probability == 0.0:
        raise NonPositiveArgumentError(
            "replace_probability must be greater than 0.0: with 0.0 a full buffer "
            "would discard every new item, and the collector's queue bound "
            "(max_size / replace_probability) would be infinite."
        )
    return probability


class RandomReplacementBuffer(DataBuffer[T, list[T]], RandomMixin):
    """Fills up to ``max_size`` items, then replaces random slots.

    Once full, each new item is kept with probability ``replace_probability`` and
    then overwrites a slot chosen uniformly at random; otherwise it is discarded.
    Randomness comes from the global ``random`` module (``random.random`` and
    ``random.randint``, looked up at each call), as in PAMIQ-Core 0.6, until the
    buffer gets a generator of its own: ``launch`` with a seed gives it one (see
    :class:`~pamiq_core.seeding.RandomMixin`), as do :meth:`seed_random` and the
    first use of :attr:`rng`. Touched only by the training thread.
    """

    def __init__(
        self,
        max_size: int,
        replace_probability: float | None = None,
        expected_survival_length: int | None = None,
    ) -> None:
        """Configure the capacity and how eagerly a full buffer takes new items.

        Args:
            max_size: How many items the buffer keeps.
            replace_probability: Chance that a new item replaces a stored one once
                the buffer is full. Defaults to 1.0 unless
                ``expected_survival_length`` is given.
            expected_survival_length: Alternative to ``replace_probability``: about
                how many additions a stored item should survive; the probability is
                derived from it.

        Since only a fraction ``p`` of new items is kept once full, the collector may
        queue up to ``max_size / p`` items: that is ``max_queue_size``.

        Raises:
            ValueError: If ``max_size`` is not positive, both probability arguments
                are given, the probability is outside ``(0.0, 1.0]``, or
                ``expected_survival_length`` is not positive.
        """
        probability = _choose_replace_probability(
            max_size, replace_probability, expected_survival_length
        )
        super().__init__(max_queue_size=int(max_size / probability))
        self._max_size = max_size
        self._replace_probability = probability
        self._data: list[T] = []
        self._current_size = 0

    @staticmethod
    def compute_replace_probability_from_expected_survival_length(
        max_size: int, survival_length: int
    ) -> float:
        """The replacement probability under which an item survives about ``survival_length`` additions.

        Computed as ``max_size / survival_length * (ln(max_size) + gamma)``, clamped to
        ``[0, 1]``: ``max_size * (ln(max_size) + gamma)`` replacements are expected to
        touch every slot (coupon collector), and only a fraction ``p`` of additions
        replaces anything (gamma is the Euler-Mascheroni constant).

        Raises:
            ValueError: If ``max_size`` or ``survival_length`` is not positive.
        """
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}.")
        if survival_length <= 0:
            raise NonPositiveArgumentError(
                f"survival_length must be positive, got {survival_length}."
            )
        probability = max_size / survival_length * (math.log(max_size) + _EULER_GAMMA)
        return min(max(probability, 0.0), 1.0)

    @property
    def max_size(self) -> int:
        """How many items the buffer keeps."""
        return self._max_size

    @property
    def is_full(self) -> bool:
        """Whether the buffer holds ``max_size`` items."""
        return self._current_size >= self._max_size

    def add(self, data: T) -> None:
        """Append ``data`` if there is room, else maybe replace a random slot with it."""
        if not self.is_full:
            self._data.append(data)
            self._current_size += 1
            return
        generator = self._python_generator
        if generator is None:  # 0.6's global functions, which tests may patch
            if random.random() <= self._replace_probability:
                self._data[random.randint(0, self._max_size - 1)] = data
        elif generator.random() <= self._replace_probability:
            self._data[generator.randint(0, self._max_size - 1)] = data

    def get_data(self) -> list[T]:
        """A new list of the stored items in slot order (not chronological once full)."""
        return self._data.copy()

    def __len__(self) -> int:
        return self._current_size

    def save_state(self, path: Path) -> None:
        """Pickle the list of items to ``path.with_suffix(".pkl")``."""
        save_pickle(self._data, path.with_suffix(".pkl"))

    def load_state(self, path: Path) -> None:
        """Load the items saved at ``path``; if there are too many, keep the first slots."""
        self._data = list(load_pickle(path.with_suffix(".pkl")))[: self._max_size]
        self._current_size = len(self._data)


class DictRandomReplacementBuffer(KeyedBuffer[T], RandomMixin):
    """A :class:`RandomReplacementBuffer` of items that are dicts with fixed keys.

    ``get_data`` gives each key's values in slot order. Each item is copied on
    ``add``, so a caller that reuses one dict per step never changes stored data.
    Its generators are the inner buffer's.
    """

    def __init__(
        self,
        keys: Iterable[str],
        max_size: int,
        replace_probability: float | None = None,
        expected_survival_length: int | None = None,
    ) -> None:
        """Like :class:`RandomReplacementBuffer`, with items that have exactly ``keys``.

        Raises:
            ValueError: As :class:`RandomReplacementBuffer` does.
        """
        self._replacing = RandomReplacementBuffer[dict[str, T]](
            max_size, replace_probability, expected_survival_length
        )
        super().__init__(keys, self._replacing)

    @property
    @override
    def rng(self) -> random.Random:
        """The inner buffer's Python generator."""
        return self._replacing.rng

    @rng.setter
    @override
    def rng(self, generator: random.Random) -> None:
        self._replacing.rng = generator

    @property
    @override
    def np_rng(self) -> np.random.Generator:
        """The inner buffer's numpy generator (unused by the buffer)."""
        return self._replacing.np_rng

    @np_rng.setter
    @override
    def np_rng(self, generator: np.random.Generator) -> None:
        self._replacing.np_rng = generator

    @override
    def seed_random(self, seed: int) -> None:
        self._replacing.seed_random(seed)

    @override
    def random_state(self) -> dict[str, Any]:
        return self._replacing.random_state()

    @override
    def load_random_state(self, state: Mapping[str, Any]) -> None:
        self._replacing.load_random_state(state)
