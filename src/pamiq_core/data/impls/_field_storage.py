"""Preallocated storage of one named field of a ring buffer: numpy or torch.

A field storage holds ``capacity`` rows of one shape and dtype, checks and converts
incoming items, and gathers rows by index. Random indices are always drawn with
numpy; the torch storage moves them to its device. torch is imported only when a
torch storage is created, or read from ``sys.modules`` when an item might be a
tensor (an item cannot be a tensor unless the caller has imported torch).
"""

import sys
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

A = TypeVar("A")

Backend = Literal["numpy", "torch"]


class FieldStorage(ABC, Generic[A]):
    """``capacity`` rows of items of one shape and dtype, in arrays of type ``A``.

    Not thread-safe: owned by one ring buffer, which the training thread uses.
    """

    def __init__(self, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        """Describe the field; subclasses allocate the rows."""
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self._storable: dict[Any, bool] = {}

    @abstractmethod
    def check(self, value: object) -> object:
        """Return ``value`` ready for :meth:`put`, after checking shape and dtype.

        Raises:
            ValueError: If the item's shape differs from the field's.
            TypeError: If storing the item would move its dtype down the kinds
                bool < integer < float < complex (e.g. float into an int field).
                Within a kind any cast is allowed; values out of range wrap as in
                numpy casts.
        """

    @abstractmethod
    def put(self, slot: int, checked: object) -> None:
        """Copy a value returned by :meth:`check` into row ``slot``."""

    @abstractmethod
    def take(self, index: NDArray[np.intp]) -> A:
        """A new array of the rows at ``index`` (an index array of any shape)."""

    @abstractmethod
    def ordered(self, start: int, count: int) -> A:
        """A new array of ``count`` rows from ``start`` on, wrapping around the end."""

    @abstractmethod
    def to_numpy(self, array: A) -> NDArray[Any]:
        """An array returned by this storage, as a host numpy array."""

    @abstractmethod
    def load_rows(self, rows: NDArray[Any]) -> None:
        """Copy host ``rows`` into the first ``len(rows)`` rows."""

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        if shape != self.shape:
            raise ValueError(
                f"Field '{self.name}' stores items of shape {self.shape}, got an item "
                f"of shape {shape}."
            )

    def _check_dtype(self, source: Any, target: Any) -> None:
        if source == target:
            return
        storable = self._storable.get(source)
        if storable is None:
            storable = self._kind_rank(source) <= self._kind_rank(target)
            self._storable[source] = storable
        if not storable:
            raise TypeError(
                f"Field '{self.name}' stores {self.dtype}; an item of dtype {source} "
                "cannot be stored in it without changing kind (casts along bool -> "
                "integer -> float -> complex are allowed, e.g. float64 to float32 "
                "or int to float, but not float to int)."
            )

    @abstractmethod
    def _kind_rank(self, dtype: Any) -> int:
        """Position of the dtype's kind in bool < integer < float < complex."""


_NUMPY_KIND_RANKS = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_NOT_NUMERIC = 99


def _numpy_kind_rank(dtype: np.dtype[Any]) -> int:
    return _NUMPY_KIND_RANKS.get(dtype.kind, _NOT_NUMERIC)


def _as_numpy(value: object) -> NDArray[Any]:
    if isinstance(value, np.ndarray):
        return value  # pyright: ignore[reportUnknownVariableType]
    torch_module = sys.modules.get("torch")
    if torch_module is not None and isinstance(value, torch_module.Tensor):
        tensor: Any = value
        return np.asarray(tensor.detach().cpu().numpy())
    return np.asarray(value)


class NumpyFieldStorage(FieldStorage[NDArray[Any]]):
    """Rows in one preallocated host numpy array of shape ``(capacity, *shape)``."""

    def __init__(
        self, name: str, capacity: int, shape: tuple[int, ...], dtype: np.dtype[Any]
    ) -> None:
        """Allocate (uninitialised) storage for ``capacity`` rows."""
        super().__init__(name, shape, dtype)
        self.rows: NDArray[Any] = np.empty((capacity, *shape), dtype=dtype)

    def check(self, value: object) -> NDArray[Any]:
        """``value`` as a numpy array of the field's shape and a storable dtype."""
        array = _as_numpy(value)
        self._check_shape(array.shape)
        self._check_dtype(array.dtype, self.dtype)
        return array

    def put(self, slot: int, checked: object) -> None:
        """Copy a checked array into row ``slot``."""
        self.rows[slot] = checked

    def take(self, index: NDArray[np.intp]) -> NDArray[Any]:
        """The rows at ``index``, copied (``np.take``: faster than fancy indexing)."""
        return np.take(self.rows, index, axis=0)

    def ordered(self, start: int, count: int) -> NDArray[Any]:
        """``count`` rows from ``start`` on, wrapping around, copied."""
        end = start + count
        if end <= len(self.rows):
            return self.rows[start:end].copy()
        return np.concatenate((self.rows[start:], self.rows[: end - len(self.rows)]))

    def to_numpy(self, array: NDArray[Any]) -> NDArray[Any]:
        """``array`` itself."""
        return array

    def load_rows(self, rows: NDArray[Any]) -> None:
        """Copy ``rows`` into the first rows."""
        self.rows[: len(rows)] = rows

    def _kind_rank(self, dtype: Any) -> int:
        return _numpy_kind_rank(dtype)


class TorchFieldStorage(FieldStorage["torch.Tensor"]):
    """Rows in one preallocated torch tensor on a device; items are copied to it."""

    def __init__(
        self,
        name: str,
        capacity: int,
        shape: tuple[int, ...],
        dtype: np.dtype[Any],
        device: "torch.device | str | None" = None,
    ) -> None:
        """Import torch and allocate (uninitialised) rows on ``device`` (default CPU).

        Raises:
            TypeError: If torch has no dtype matching ``dtype``.
        """
        super().__init__(name, shape, dtype)
        import torch  # noqa: PLC0415 - torch is optional: import only when asked for

        self._torch = torch
        try:
            torch_dtype = self._from_numpy(np.empty(0, dtype=dtype)).dtype
        except (TypeError, ValueError) as error:  # unknown dtype, foreign byte order
            raise TypeError(
                f"Field '{name}': torch has no dtype matching numpy {dtype}."
            ) from error
        self.device = torch.device("cpu" if device is None else device)
        self.rows = torch.empty(
            (capacity, *shape), dtype=torch_dtype, device=self.device
        )

    def _from_numpy(self, array: NDArray[Any]) -> "torch.Tensor":
        return self._torch.from_numpy(array)  # pyright: ignore[reportUnknownMemberType]

    def check(self, value: object) -> "torch.Tensor":
        """``value`` as a tensor of the field's shape and a storable dtype."""
        torch = self._torch
        if isinstance(value, torch.Tensor):
            self._check_shape(tuple(value.shape))
            self._check_dtype(value.dtype, self.rows.dtype)
            return value.detach()
        array = np.asarray(value)
        self._check_shape(array.shape)
        self._check_dtype(array.dtype, self.dtype)
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        return self._from_numpy(array if array.flags.c_contiguous else array.copy())

    def put(self, slot: int, checked: object) -> None:
        """Copy a checked tensor into row ``slot`` (onto the device)."""
        self.rows[slot].copy_(checked)  # pyright: ignore[reportArgumentType]

    def take(self, index: NDArray[np.intp]) -> "torch.Tensor":
        """The rows at ``index``, gathered on the device."""
        return self.rows[self._from_numpy(index).to(self.device)]

    def ordered(self, start: int, count: int) -> "torch.Tensor":
        """``count`` rows from ``start`` on, wrapping around, copied."""
        end = start + count
        if end <= len(self.rows):
            return self.rows[start:end].clone()
        return self._torch.cat((self.rows[start:], self.rows[: end - len(self.rows)]))

    def to_numpy(self, array: "torch.Tensor") -> NDArray[Any]:
        """``array`` copied to the host as numpy."""
        return array.cpu().numpy()

    def load_rows(self, rows: NDArray[Any]) -> None:
        """Copy host ``rows`` into the first rows."""
        self.rows[: len(rows)].copy_(self._from_numpy(rows))

    def _kind_rank(self, dtype: Any) -> int:
        if isinstance(dtype, np.dtype):
            return _numpy_kind_rank(cast("np.dtype[Any]", dtype))
        torch_dtype = cast("torch.dtype", dtype)
        if torch_dtype == self._torch.bool:
            return 0
        if torch_dtype.is_complex:
            return 3
        if torch_dtype.is_floating_point:
            return 2
        return 1


def make_field_storage(
    backend: Backend,
    *,
    name: str,
    capacity: int,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    device: "torch.device | str | None" = None,
) -> FieldStorage[Any]:
    """Create the storage of one field with the chosen backend."""
    if backend == "numpy":
        if device is not None:
            raise ValueError(
                f"device={device!r} needs backend='torch'; numpy arrays live on the host."
            )
        return NumpyFieldStorage(name, capacity, shape, dtype)
    if backend == "torch":
        return TorchFieldStorage(name, capacity, shape, dtype, device)
    raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}.")
