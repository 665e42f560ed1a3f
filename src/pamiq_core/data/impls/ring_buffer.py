"""Ring buffers for fixed-shape numeric items, built for fast training batches.

Each field is one preallocated array of shape ``(max_size, *item_shape)``; adding an
item copies it into the next row, overwriting the oldest once full (O(1), no
allocation). Training batches are gathered with one fancy-indexing operation:
:meth:`RingBuffer.sample` draws items uniformly, :meth:`RingBuffer.sample_sequences`
draws chronologically contiguous windows, and :meth:`RingBuffer.get_data` returns
everything, oldest first. Storage is numpy by default, or torch tensors on a device
(``backend="torch"``; torch is imported only then).

On disk (``save_state(path)``): one file ``path.with_suffix(".npz")``, an
uncompressed numpy ``.npz`` archive with one array per field, named after the field
(``"data"`` for :class:`RingBuffer`), rows oldest first. It holds no pickled objects
and can be read with ``numpy.load(file)``.
"""

import zipfile
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray
from typing_extensions import TypeVar

from pamiq_core.data.buffer import DataBuffer
from pamiq_core.seeding import RandomMixin

from ._field_storage import Backend, FieldStorage, make_field_storage

if TYPE_CHECKING:
    import torch

ArrayT = TypeVar("ArrayT", default=NDArray[Any])
_ItemT = TypeVar("_ItemT")
_BatchT = TypeVar("_BatchT")

DATA_FIELD = "data"


class FieldSpec(NamedTuple):
    """Shape and dtype of the items of one field (a plain ``(shape, dtype)`` pair)."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]


def _field_spec(name: str, shape: Sequence[int], dtype: DTypeLike) -> FieldSpec:
    try:
        normalised = tuple(int(size) for size in shape)
    except TypeError as error:
        raise TypeError(
            f"Field '{name}': shape must be a sequence of ints, got {shape!r}."
        ) from error
    if any(size < 0 for size in normalised):
        raise ValueError(f"Field '{name}': shape must not be negative, got {shape!r}.")
    numpy_dtype = np.dtype(dtype)
    if numpy_dtype.kind not in "biufc":
        raise TypeError(
            f"Field '{name}': ring buffers store numeric items; dtype {numpy_dtype} "
            "is not numeric (bool, integer, float or complex)."
        )
    return FieldSpec(normalised, numpy_dtype)


def _uniform_below(
    generator: np.random.Generator, high: int, count: int
) -> NDArray[np.intp]:
    """``count`` integers drawn uniformly from ``[0, high)``.

    Raw 64-bit draws taken modulo ``high``: about twice as fast as
    ``Generator.integers`` for batch-sized draws, which matters on the path of
    every training batch. The modulo bias is at most ``high / 2**64``, far below
    anything measurable for a buffer that fits in memory.
    """
    raw = generator.bit_generator.random_raw(count)
    return (raw % np.uint64(high)).astype(np.intp)


class _RingBufferBase(
    DataBuffer[_ItemT, _BatchT], RandomMixin, Generic[_ItemT, _BatchT, ArrayT]
):
    """Everything :class:`RingBuffer` and :class:`DictRingBuffer` share.

    One preallocated storage per field, all fields of one item in the same row.
    Rows ``0 .. size-1`` hold data until the ring is full; afterwards every row
    does, and ``next_slot`` is both the next row to write and the oldest row.
    Subclasses say only how an item becomes one checked value per field
    (:meth:`_checked`) and how one array per field becomes what callers get
    (:meth:`_pack`).

    Sampling draws from the buffer's own numpy generator, :attr:`np_rng` (see
    :class:`~pamiq_core.seeding.RandomMixin`): started from ``seed``, reseeded by
    ``launch`` when it has a seed, and kept in snapshots.

    Not thread-safe: touched only by the training thread, through its data user.
    """

    def __init__(
        self,
        fields: Mapping[str, tuple[Sequence[int], DTypeLike]],
        max_size: int,
        backend: Backend,
        device: "torch.device | str | None",
        seed: int | np.random.Generator | None,
    ) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}.")
        if not fields:
            raise ValueError(f"{type(self).__name__} needs at least one field.")
        super().__init__(max_queue_size=max_size)
        self._specs = {
            name: _field_spec(name, shape, dtype)
            for name, (shape, dtype) in fields.items()
        }
        self._fields: tuple[FieldStorage[ArrayT], ...] = tuple(
            make_field_storage(
                backend,
                name=name,
                capacity=max_size,
                shape=spec.shape,
                dtype=spec.dtype,
                device=device,
            )
            for name, spec in self._specs.items()
        )
        self._capacity = max_size
        self._next_slot = 0
        self._size = 0
        self.np_rng = np.random.default_rng(seed)

    @abstractmethod
    def _checked(self, data: _ItemT) -> Iterable[object]:
        """The item's value for each field, in field order, checked for storing.

        Checks every value before returning any, so that :meth:`add` writes all of
        them or none (see :meth:`FieldStorage.check` for what it raises).
        """

    @abstractmethod
    def _pack(self, arrays: list[ArrayT]) -> _BatchT:
        """What callers get for one array per field, in field order."""

    @property
    def max_size(self) -> int:
        """How many items the buffer keeps (the newest)."""
        return self._capacity

    @property
    def _oldest(self) -> int:
        return self._next_slot if self._size == self._capacity else 0

    def add(self, data: _ItemT) -> None:
        """Copy ``data`` into the ring, overwriting the oldest item once full.

        Every field's value is checked before any is written, so a rejected item
        changes nothing; the caller may reuse its arrays afterwards.

        Raises:
            ValueError: If a value's shape differs from its field's (or, for a
                dict buffer, the keys differ from the field names).
            TypeError: If a value's dtype cannot be cast to its field's dtype.
        """
        slot = self._next_slot
        # _checked gives one value per field; strict=True would add a fifth to an add.
        for field, value in zip(self._fields, self._checked(data)):  # noqa: B905
            field.put(slot, value)
        self._next_slot = (slot + 1) % self._capacity
        if self._size < self._capacity:
            self._size += 1

    def get_data(self) -> _BatchT:
        """New arrays of all stored items, oldest first: ``(len, *shape)``."""
        oldest, size = self._oldest, self._size
        return self._pack([field.ordered(oldest, size) for field in self._fields])

    def sample(
        self,
        batch_size: int,
        *,
        rng: np.random.Generator | None = None,
        replace: bool = True,
    ) -> _BatchT:
        """Draw ``batch_size`` stored items uniformly at random: ``(batch, *shape)``.

        A dict buffer draws the same items for every field.

        Args:
            batch_size: Number of items.
            rng: Random generator (default: the buffer's own, see ``seed``).
            replace: Whether an item may be drawn more than once.

        Raises:
            ValueError: If the buffer is empty, or ``replace`` is false and
                ``batch_size`` exceeds the number of stored items.
        """
        return self._take(self._random_rows(batch_size, rng, replace))

    def sample_sequences(
        self,
        batch_size: int,
        length: int,
        *,
        rng: np.random.Generator | None = None,
    ) -> _BatchT:
        """Draw windows of ``length`` consecutive items: ``(batch, length, *shape)``.

        Each window holds items in the order they were collected, also where it
        crosses the end of the ring's storage. Window starts are uniform; a dict
        buffer draws the same windows for every field.

        Raises:
            ValueError: If ``length`` is not between 1 and ``len(self)``.
        """
        return self._take(self._window_rows(batch_size, length, rng))

    def __len__(self) -> int:
        return self._size

    def _take(self, rows: NDArray[np.intp]) -> _BatchT:
        return self._pack([field.take(rows) for field in self._fields])

    def _check_can_sample(self, batch_size: int) -> None:
        if batch_size < 0:
            raise ValueError(f"batch_size must be non-negative, got {batch_size}.")
        if self._size == 0 and batch_size > 0:
            raise ValueError("Cannot sample from an empty ring buffer.")

    def _random_rows(
        self, batch_size: int, rng: np.random.Generator | None, replace: bool
    ) -> NDArray[np.intp]:
        """Rows of ``batch_size`` items drawn uniformly from the stored ones.

        Draws chronological positions (0 the oldest) and maps them to rows, so the
        same draws pick the same items after a snapshot is loaded (which stores
        the items oldest first), and a resumed run samples as the original would.
        """
        self._check_can_sample(batch_size)
        generator = self.np_rng if rng is None else rng
        if replace:
            positions = _uniform_below(generator, self._size, batch_size)
        elif batch_size > self._size:
            raise ValueError(
                f"Cannot draw {batch_size} distinct items from {self._size} stored "
                "ones; pass replace=True or a smaller batch_size."
            )
        else:
            positions = generator.choice(
                self._size, size=batch_size, replace=False
            ).astype(np.intp)
        oldest = self._oldest
        if oldest:
            positions += oldest
            positions %= self._capacity
        return positions

    def _window_rows(
        self, batch_size: int, length: int, rng: np.random.Generator | None
    ) -> NDArray[np.intp]:
        """Rows of ``batch_size`` windows of ``length`` consecutive items.

        Window starts are uniform over the chronological positions at which a whole
        window fits; rows are taken modulo the capacity, so a window that crosses
        the end of the storage continues at its start, in collection order.
        """
        self._check_can_sample(batch_size)
        if not 1 <= length <= self._size:
            raise ValueError(
                f"length must be between 1 and the number of stored items "
                f"({self._size}), got {length}."
            )
        generator = self.np_rng if rng is None else rng
        starts = _uniform_below(generator, self._size - length + 1, batch_size)
        offsets = np.arange(length, dtype=np.intp)
        return (self._oldest + starts[:, np.newaxis] + offsets) % self._capacity

    def save_state(self, path: Path) -> None:
        """Write each field's items, oldest first, to ``path.with_suffix(".npz")``.

        One array per field, named after it (``"data"`` for :class:`RingBuffer`).
        """
        oldest, size = self._oldest, self._size
        arrays = {
            field.name: field.to_numpy(field.ordered(oldest, size))
            for field in self._fields
        }
        with zipfile.ZipFile(path.with_suffix(".npz"), "w", allowZip64=True) as archive:
            for name, array in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote; if there are too many, keep the newest.

        Raises:
            ValueError: If the file's fields, shapes or dtypes differ from this
                buffer's.
        """
        file = path.with_suffix(".npz")
        with np.load(file, allow_pickle=False) as archive:
            names = set(archive.files)
            if names != set(self._specs):
                raise ValueError(
                    f"{file} holds fields {sorted(names)}, but this buffer has fields "
                    f"{sorted(self._specs)}."
                )
            arrays = {name: archive[name] for name in self._specs}
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"{file} holds fields of different lengths: {lengths}.")
        for name, array in arrays.items():
            spec = self._specs[name]
            if array.shape[1:] != spec.shape or array.dtype != spec.dtype:
                raise ValueError(
                    f"{file}: field '{name}' holds items of shape {array.shape[1:]} "
                    f"and dtype {array.dtype}; this buffer expects shape "
                    f"{spec.shape} and dtype {spec.dtype}."
                )
        count = min(lengths.pop(), self._capacity) if lengths else 0
        for field in self._fields:
            field.load_rows(arrays[field.name][len(arrays[field.name]) - count :])
        self._size = count
        self._next_slot = count % self._capacity


class RingBuffer(_RingBufferBase[ArrayLike, ArrayT, ArrayT]):
    """The newest ``max_size`` fixed-shape numeric items, in one preallocated array.

    ``add`` copies the item into the ring (the caller may reuse its array) in O(1);
    ``get_data`` returns an array of shape ``(len, *shape)``, oldest first;
    :meth:`sample` and :meth:`sample_sequences` gather training batches without
    per-item Python work. ``max_queue_size`` equals ``max_size``.

    Items must have exactly ``shape``; their dtype may differ from ``dtype`` within
    the order of kinds bool < integer < float < complex (float64 into float32 and
    int into float are fine, float into int is not; out-of-range values wrap as in
    numpy casts). With ``backend="torch"`` storage is a tensor on ``device`` and every
    returned array is a tensor there; items may be tensors or anything numpy
    accepts. With the numpy backend, CPU tensors are accepted as items too.

    Not thread-safe: touched only by the training thread, through its data user.
    Saved as an ``.npz`` archive, see the module documentation.
    """

    @overload
    def __init__(
        self: "RingBuffer[NDArray[Any]]",
        max_size: int,
        shape: Sequence[int] = (),
        dtype: DTypeLike = np.float32,
        *,
        backend: Literal["numpy"] = "numpy",
        seed: int | np.random.Generator | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: "RingBuffer[torch.Tensor]",
        max_size: int,
        shape: Sequence[int] = (),
        dtype: DTypeLike = np.float32,
        *,
        backend: Literal["torch"],
        device: "torch.device | str | None" = None,
        seed: int | np.random.Generator | None = None,
    ) -> None: ...
    def __init__(
        self,
        max_size: int,
        shape: Sequence[int] = (),
        dtype: DTypeLike = np.float32,
        *,
        backend: Backend = "numpy",
        device: "torch.device | str | None" = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        """Preallocate storage for ``max_size`` items.

        Args:
            max_size: How many items the buffer keeps (the newest).
            shape: Shape of one item (``()`` for scalars).
            dtype: numpy dtype of the storage; must be numeric.
            backend: ``"numpy"`` or ``"torch"``.
            device: Where the torch storage lives (torch backend only; default CPU).
            seed: Seed or generator for sampling when no ``rng`` is passed
                (``launch`` with a seed reseeds it from that seed).

        Raises:
            ValueError: If ``max_size`` is not positive, ``shape`` has a negative
                size, or ``device`` is given for the numpy backend.
            TypeError: If ``dtype`` is not numeric.
        """
        super().__init__({DATA_FIELD: (shape, dtype)}, max_size, backend, device, seed)
        (self._field,) = self._fields

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item."""
        return self._field.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the stored items."""
        return self._field.dtype

    def _checked(self, data: ArrayLike) -> tuple[object]:
        return (self._field.check(data),)

    def _pack(self, arrays: list[ArrayT]) -> ArrayT:
        return arrays[0]


class DictRingBuffer(
    _RingBufferBase[Mapping[str, ArrayLike], dict[str, ArrayT], ArrayT]
):
    """A :class:`RingBuffer` whose items are several named fields per step.

    Each field has its own shape and dtype and its own preallocated array; all
    fields of one step share a row, so sampled batches stay aligned across fields.
    An item must have exactly the buffer's field names; all its values are checked
    before any is written, so a rejected item changes nothing.

    Not thread-safe: touched only by the training thread, through its data user.
    Saved as an ``.npz`` archive with one array per field, see the module
    documentation.
    """

    @overload
    def __init__(
        self: "DictRingBuffer[NDArray[Any]]",
        fields: Mapping[str, tuple[Sequence[int], DTypeLike]],
        max_size: int,
        *,
        backend: Literal["numpy"] = "numpy",
        seed: int | np.random.Generator | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: "DictRingBuffer[torch.Tensor]",
        fields: Mapping[str, tuple[Sequence[int], DTypeLike]],
        max_size: int,
        *,
        backend: Literal["torch"],
        device: "torch.device | str | None" = None,
        seed: int | np.random.Generator | None = None,
    ) -> None: ...
    def __init__(
        self,
        fields: Mapping[str, tuple[Sequence[int], DTypeLike]],
        max_size: int,
        *,
        backend: Backend = "numpy",
        device: "torch.device | str | None" = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        """Preallocate storage for ``max_size`` steps of the given fields.

        Args:
            fields: For each field name, ``(shape, dtype)`` of its items (a
                :class:`FieldSpec` works too), e.g.
                ``{"obs": ((4,), np.float32), "action": ((), np.int64)}``.
            max_size: How many steps the buffer keeps (the newest).
            backend: ``"numpy"`` or ``"torch"``.
            device: Where the torch storage lives (torch backend only; default CPU).
            seed: Seed or generator for sampling when no ``rng`` is passed
                (``launch`` with a seed reseeds it from that seed).

        Raises:
            ValueError: If ``max_size`` is not positive, there are no fields, or a
                shape has a negative size.
            TypeError: If a dtype is not numeric.
        """
        super().__init__(fields, max_size, backend, device, seed)
        self._names = tuple(self._specs)
        self._name_set: AbstractSet[str] = frozenset(self._names)

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """Shape and dtype of each field (a fresh dict each time)."""
        return dict(self._specs)

    @property
    def keys(self) -> set[str]:
        """The field names (a fresh set each time)."""
        return set(self._names)

    def _checked(self, data: Mapping[str, ArrayLike]) -> list[object]:
        if data.keys() != self._name_set:
            raise ValueError(
                f"Data keys {set(data.keys())} do not match expected keys "
                f"{set(self._names)}"
            )
        return [
            field.check(data[name])
            for field, name in zip(self._fields, self._names, strict=True)
        ]

    def _pack(self, arrays: list[ArrayT]) -> dict[str, ArrayT]:
        return dict(zip(self._names, arrays, strict=True))
