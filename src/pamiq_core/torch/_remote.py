"""Torch parameters as plain byte arrays, for a trip through Ray's object store.

In Ray mode a :class:`TorchTrainingModel` trains in an actor, maybe on another
machine. Each sync exports every parameter and buffer of the training module as a
byte view (no copy on the CPU; the object store's ``put`` makes the one copy), and
the agent's side writes the bytes into its inference model's back module before
the usual O(1) swap. Bytes rather than tensors: every dtype travels (numpy has no
``bfloat16``), and the arrays arrive as read-only views of the object store.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._copy import ModuleTensors


@dataclass(frozen=True)
class ParameterBytes:
    """A module's parameters and buffers, in ``ModuleTensors`` order.

    Attributes:
        names: The tensors' names.
        layouts: Each tensor's dtype and shape, to check the target against.
        arrays: Each tensor's bytes.
    """

    names: list[str]
    layouts: list[tuple[str, tuple[int, ...]]]
    arrays: list[np.ndarray[Any, np.dtype[np.uint8]]]

    @property
    def nbytes(self) -> int:
        """The size of the tensors' bytes."""
        return sum(array.nbytes for array in self.arrays)


def export_parameters(module: nn.Module) -> ParameterBytes:
    """Byte views of ``module``'s tensors (copies only off the CPU or if strided).

    The views alias the module: serialize them before the module changes.
    """
    tensors = ModuleTensors(module)
    arrays: list[np.ndarray[Any, np.dtype[np.uint8]]] = []
    layouts: list[tuple[str, tuple[int, ...]]] = []
    for tensor in tensors.tensors:
        flat = tensor.detach().reshape(-1)
        if flat.device.type != "cpu":
            flat = flat.cpu()
        arrays.append(flat.contiguous().view(torch.uint8).numpy())
        layouts.append((str(tensor.dtype), tuple(tensor.shape)))
    return ParameterBytes(tensors.names, layouts, arrays)


def import_parameters(parameters: ParameterBytes, module: nn.Module) -> None:
    """Write ``parameters`` into ``module``'s tensors.

    Raises:
        ValueError: If ``module`` does not have the tensors' names, dtypes and
            shapes.
    """
    tensors = ModuleTensors(module)
    layouts = [(str(t.dtype), tuple(t.shape)) for t in tensors.tensors]
    if tensors.names != parameters.names or layouts != parameters.layouts:
        raise ValueError(
            "The parameters sent by the training side do not fit the inference "
            "model: the modules differ in tensor names, dtypes or shapes "
            f"(sent {list(zip(parameters.names, parameters.layouts, strict=True))[:5]}"
            f"..., here {list(zip(tensors.names, layouts, strict=True))[:5]}...)."
        )
    for tensor, array in zip(tensors.tensors, parameters.arrays, strict=True):
        target = tensor.detach()
        if target.device.type == "cpu" and target.is_contiguous():
            np.copyto(target.reshape(-1).view(torch.uint8).numpy(), array)
        else:  # a writable copy: torch refuses to wrap a read-only array silently
            source = torch.from_numpy(np.array(array)).view(target.dtype)  # pyright: ignore[reportUnknownMemberType]
            target.copy_(source.reshape(target.shape))
