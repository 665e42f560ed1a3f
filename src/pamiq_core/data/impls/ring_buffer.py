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
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray
from typing_extensions import TypeVar

from pamiq_core.data.buffer import DataBuffer

from ._field_storage import Backend, FieldStorage, make_field_storage

if TYPE_CHECKING:
    import torch

ArrayT = TypeVar("ArrayT", default=NDArray[Any])

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


class _Ring(Generic[ArrayT]):
    """Row bookkeeping shared by the ring buffers: where to write, what is valid.

    Rows ``0 .. size-1`` hold data until the ring is full; afterwards every row
    does, and ``next_slot`` is both the next row to write and the oldest row.
    Not thread-safe: the training thread owns it.
    """

    def __init__(
        self,
        capacity: int,
        specs: Mapping[str, FieldSpec],
        backend: Backend,
        device: "torch.device | str | None",
        seed: int | np.random.Generator | None,
    ) -> None:
        self.capacity = capacity
        self.specs = dict(specs)
        self.fields: tuple[FieldStorage[ArrayT], ...] = tuple(
            make_field_storage(
                backend,
                name=name,
                capacity=capacity,
                shape=spec.shape,
                dtype=spec.dtype,
                device=device,
            )
            for name, spec in self.specs.items()
        )
        self.next_slot = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    @property
    def oldest(self) -> int:
        return self.next_slot if self.size == self.capacity else 0

    def advance(self) -> None:
        self.next_slot = (self.next_slot + 1) % self.capacity
        if self.size < self.capacity:
            self.size += 1

    def add(self, values: Sequence[object]) -> None:
        """Check every field's value, then write them all to the next row."""
        checked = [
            field.check(value) for field, value in zip(self.fields, values, strict=True)
        ]
        slot = self.next_slot
        for field, value in zip(self.fields, checked, strict=True):
            field.put(slot, value)
        self.advance()

    def ordered(self) -> list[ArrayT]:
        oldest, size = self.oldest, self.size
        return [field.ordered(oldest, size) for field in self.fields]

    def _generator(self, rng: np.random.Generator | None) -> np.random.Generator:
        return self.rng if rng is None else rng

    def _check_can_sample(self, batch_size: int) -> None:
        if batch_size < 0:
            raise ValueError(f"batch_size must be non-negative, got {batch_size}.")
        if self.size == 0 and batch_size > 0:
            raise ValueError("Cannot sample from an empty ring buffer.")

    def random_rows(
        self, batch_size: int, rng: np.random.Generator | None, replace: bool
    ) -> NDArray[np.intp]:
        """Rows of ``batch_size`` items drawn uniformly from the stored ones."""
        self._check_can_sample(batch_size)
        generator = self._generator(rng)
        if replace:
            return _uniform_below(generator, self.size, batch_size)
        if batch_size > self.size:
            raise ValueError(
                f"Cannot draw {batch_size} distinct items from {self.size} stored "
                "ones; pass replace=True or a smaller batch_size."
            )
        return generator.choice(self.size, size=batch_size, replace=False).astype(
            np.intp
        )

    def window_rows(
        self, batch_size: int, length: int, rng: np.random.Generator | None
    ) -> NDArray[np.intp]:
        """Rows of ``batch_size`` windows of ``length`` consecutive items.

        Window starts are uniform over the chronological positions at which a whole
        window fits; rows are taken modulo the capacity, so a window that crosses
        the end of the storage continues at its start, in collection order.
        """
        self._check_can_sample(batch_size)
        if not 1 <= length <= self.size:
            raise ValueError(
                f"length must be between 1 and the number of stored items "
                f"({self.size}), got {length}."
            )
        starts = _uniform_below(
            self._generator(rng), self.size - length + 1, batch_size
        )
        offsets = np.arange(length, dtype=np.intp)
        return (self.oldest + starts[:, np.newaxis] + offsets) % self.capacity

    def take(self, rows: NDArray[np.intp]) -> list[ArrayT]:
        return [field.take(rows) for field in self.fields]

    def save(self, path: Path) -> None:
        arrays = {
            field.name: field.to_numpy(values)
            for field, values in zip(self.fields, self.ordered(), strict=True)
        }
        with zipfile.ZipFile(path.with_suffix(".npz"), "w", allowZip64=True) as archive:
            for name, array in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)

    def load(self, path: Path) -> None:
        file = path.with_suffix(".npz")
        with np.load(file, allow_pickle=False) as archive:
            names = set(archive.files)
            if names != set(self.specs):
                raise ValueError(
                    f"{file} holds fields {sorted(names)}, but this buffer has fields "
                    f"{sorted(self.specs)}."
                )
            arrays = {name: archive[name] for name in self.specs}
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"{file} holds fields of different lengths: {lengths}.")
        for name, array in arrays.items():
            spec = self.specs[name]
            if array.shape[1:] != spec.shape or array.dtype != spec.dtype:
                raise ValueError(
                    f"{file}: field '{name}' holds items of shape {array.shape[1:]} "
                    f"and dtype {array.dtype}; this buffer expects shape "
                    f"{spec.shape} and dtype {spec.dtype}."
                )
        count = min(lengths.pop(), self.capacity) if lengths else 0
        for field in self.fields:
            field.load_rows(arrays[field.name][len(arrays[field.name]) - count :])
        self.size = count
        self.next_slot = count % self.capacity


class RingBuffer(DataBuffer[ArrayLike, ArrayT]):
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
            seed: Seed or generator for sampling when no ``rng`` is passed.

        Raises:
            ValueError: If ``max_size`` is not positive, ``shape`` has a negative
                size, or ``device`` is given for the numpy backend.
            TypeError: If ``dtype`` is not numeric.
        """
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}.")
        super().__init__(max_queue_size=max_size)
        spec = _field_spec(DATA_FIELD, shape, dtype)
        self._ring = _Ring[ArrayT](max_size, {DATA_FIELD: spec}, backend, device, seed)
        (self._field,) = self._ring.fields

    @property
    def max_size(self) -> int:
        """How many items the buffer keeps."""
        return self._ring.capacity

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item."""
        return self._field.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the stored items."""
        return self._field.dtype

    def add(self, data: ArrayLike) -> None:
        """Copy ``data`` into the ring, overwriting the oldest item once full.

        Raises:
            ValueError: If the item's shape is not :attr:`shape`.
            TypeError: If the item's dtype cannot be cast to :attr:`dtype`.
        """
        ring = self._ring
        self._field.put(ring.next_slot, self._field.check(data))
        ring.advance()

    def get_data(self) -> ArrayT:
        """A new array of all stored items, oldest first: ``(len, *shape)``."""
        ring = self._ring
        return self._field.ordered(ring.oldest, ring.size)

    def sample(
        self,
        batch_size: int,
        *,
        rng: np.random.Generator | None = None,
        replace: bool = True,
    ) -> ArrayT:
        """Draw ``batch_size`` stored items uniformly at random: ``(batch, *shape)``.

        Args:
            batch_size: Number of items.
            rng: Random generator (default: the buffer's own, see ``seed``).
            replace: Whether an item may be drawn more than once.

        Raises:
            ValueError: If the buffer is empty, or ``replace`` is false and
                ``batch_size`` exceeds the number of stored items.
        """
        return self._field.take(self._ring.random_rows(batch_size, rng, replace))

    def sample_sequences(
        self,
        batch_size: int,
        length: int,
        *,
        rng: np.random.Generator | None = None,
    ) -> ArrayT:
        """Draw windows of ``length`` consecutive items: ``(batch, length, *shape)``.

        Each window holds items in the order they were collected, also where it
        crosses the end of the ring's storage. Window starts are uniform.

        Raises:
            ValueError: If ``length`` is not between 1 and ``len(self)``.
        """
        return self._field.take(self._ring.window_rows(batch_size, length, rng))

    def __len__(self) -> int:
        return self._ring.size

    def save_state(self, path: Path) -> None:
        """Write the items, oldest first, to ``path.with_suffix(".npz")`` as ``"data"``."""
        self._ring.save(path)

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote; if there are too many, keep the newest.

        Raises:
            ValueError: If the file's shape or dtype differs from this buffer's.
        """
        self._ring.load(path)


class DictRingBuffer(DataBuffer[Mapping[str, ArrayLike], dict[str, ArrayT]]):
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
            seed: Seed or generator for sampling when no ``rng`` is passed.

        Raises:
            ValueError: If ``max_size`` is not positive, there are no fields, or a
                shape has a negative size.
            TypeError: If a dtype is not numeric.
        """
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}.")
        if not fields:
            raise ValueError("DictRingBuffer needs at least one field.")
        super().__init__(max_queue_size=max_size)
        specs = {
            name: _field_spec(name, shape, dtype)
            for name, (shape, dtype) in fields.items()
        }
        self._ring = _Ring[ArrayT](max_size, specs, backend, device, seed)
        self._names = tuple(specs)
        self._name_set: AbstractSet[str] = frozenset(specs)

    @property
    def max_size(self) -> int:
        """How many steps the buffer keeps."""
        return self._ring.capacity

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """Shape and dtype of each field (a fresh dict each time)."""
        return dict(self._ring.specs)

    @property
    def keys(self) -> set[str]:
        """The field names (a fresh set each time)."""
        return set(self._names)

    def add(self, data: Mapping[str, ArrayLike]) -> None:
        """Copy one step's values into the ring, overwriting the oldest once full.

        Raises:
            ValueError: If the keys of ``data`` differ from the field names, or a
                value has the wrong shape.
            TypeError: If a value's dtype cannot be cast to its field's dtype.
        """
        if data.keys() != self._name_set:
            raise ValueError(
                f"Data keys {set(data.keys())} do not match expected keys "
                f"{set(self._names)}"
            )
        self._ring.add([data[name] for name in self._names])

    def _by_name(self, arrays: Iterable[ArrayT]) -> dict[str, ArrayT]:
        return dict(zip(self._names, arrays, strict=True))

    def get_data(self) -> dict[str, ArrayT]:
        """For each field, a new array of all stored values, oldest first."""
        return self._by_name(self._ring.ordered())

    def sample(
        self,
        batch_size: int,
        *,
        rng: np.random.Generator | None = None,
        replace: bool = True,
    ) -> dict[str, ArrayT]:
        """Draw ``batch_size`` stored steps uniformly; the same steps for every field.

        See :meth:`RingBuffer.sample`.
        """
        return self._by_name(
            self._ring.take(self._ring.random_rows(batch_size, rng, replace))
        )

    def sample_sequences(
        self,
        batch_size: int,
        length: int,
        *,
        rng: np.random.Generator | None = None,
    ) -> dict[str, ArrayT]:
        """Draw windows of ``length`` consecutive steps; the same for every field.

        See :meth:`RingBuffer.sample_sequences`.
        """
        return self._by_name(
            self._ring.take(self._ring.window_rows(batch_size, length, rng))
        )

    def __len__(self) -> int:
        return self._ring.size

    def save_state(self, path: Path) -> None:
        """Write each field, oldest first, to ``path.with_suffix(".npz")``."""
        self._ring.save(path)

    def load_state(self, path: Path) -> None:
        """Load what :meth:`save_state` wrote; if there are too many, keep the newest.

        Raises:
            ValueError: If the file's fields, shapes or dtypes differ from this
                buffer's.
        """
        self._ring.load(path)
