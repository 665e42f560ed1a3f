"""PyTorch integration: a model pair whose sync never stalls inference, and more.

The trainer and agent here fetch the pair's halves with their types checked.

Needs the ``torch`` extra (``pip install pamiq-core[torch]``).
"""

try:
    import torch  # noqa: F401  # pyright: ignore[reportUnusedImport]  # only checks it is installed
except ModuleNotFoundError as e:
    raise ModuleNotFoundError(
        "torch module not found. pamiq_core.torch needs PyTorch, which comes with "
        "the torch extra:\n\n    pip install pamiq-core[torch]\n"
    ) from e

from .agent import TorchAgent
from .model import (
    TorchInferenceModel,
    TorchTrainingModel,
    default_infer_procedure,
    get_device,
)
from .trainer import (
    LRSchedulersDict,
    OptimizersDict,
    OptimizersSetup,
    StateDict,
    TorchTrainer,
)

__all__ = [
    "TorchInferenceModel",
    "TorchTrainingModel",
    "default_infer_procedure",
    "get_device",
    "LRSchedulersDict",
    "OptimizersDict",
    "OptimizersSetup",
    "StateDict",
    "TorchTrainer",
    "TorchAgent",
]
