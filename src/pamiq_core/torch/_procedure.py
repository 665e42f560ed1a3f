"""How an inference model calls its module: device lookup and inference procedures."""

from typing import Any, Protocol, TypeVar

import torch
from torch import nn

_ModuleT_contra = TypeVar("_ModuleT_contra", bound=nn.Module, contravariant=True)


def get_device(
    module: nn.Module, default_device: torch.device | None = None
) -> torch.device:
    """Return the device a module lives on.

    Args:
        module: The module to inspect.
        default_device: Returned when the module has neither parameters nor buffers.
            If None, torch's default device is returned instead.

    Returns:
        The device of the module's first parameter, else of its first buffer, else
        ``default_device``, else ``torch.get_default_device()``.
    """
    for parameter in module.parameters():
        return parameter.device
    for buffer in module.buffers():
        return buffer.device
    if default_device is not None:
        return default_device
    return torch.get_default_device()


class InferenceProcedureCallable(Protocol[_ModuleT_contra]):
    """A function that runs inference with a module.

    It receives the module first, then whatever the caller passed to ``infer``, and
    returns the result.
    """

    def __call__(self, model: _ModuleT_contra, /, *args: Any, **kwds: Any) -> Any:
        """Run inference with ``model`` on the given arguments."""
        ...


def default_infer_procedure(model: nn.Module, *args: Any, **kwds: Any) -> Any:
    """Move tensor arguments to the model's device and call the model.

    Positional arguments and keyword values that are tensors are moved with
    ``.to(device)``; anything else (lists and dicts of tensors included) is passed
    unchanged. The model is called through ``nn.Module.__call__``, so its hooks run.

    Returns:
        The model's output, left on the model's device.
    """
    device = get_device(model)
    args = tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)
    kwds = {
        k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in kwds.items()
    }
    return model(*args, **kwds)
