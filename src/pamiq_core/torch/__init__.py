"""PyTorch integration: a model pair whose sync never stalls inference.

Needs the ``torch`` extra (``pip install pamiq-core[torch]``).
"""

try:
    import torch  # noqa: F401  # pyright: ignore[reportUnusedImport]  # only checks it is installed
except ModuleNotFoundError as e:
    raise ModuleNotFoundError(
        "torch module not found. pamiq_core.torch needs PyTorch, which comes with "
        "the torch extra:\n\n    pip install pamiq-core[torch]\n"
    ) from e

from .model import (
    TorchInferenceModel,
    TorchTrainingModel,
    default_infer_procedure,
    get_device,
)

__all__ = [
    "TorchInferenceModel",
    "TorchTrainingModel",
    "default_infer_procedure",
    "get_device",
]
