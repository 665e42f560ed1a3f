"""Gymnasium adapters: run a ``gymnasium.Env`` as a pamiq-core environment.

Needs the ``gym`` extra (``pip install pamiq-core[gym]``).
"""

try:
    import gymnasium  # noqa: F401  # pyright: ignore[reportUnusedImport]  # only checks it is installed
except ModuleNotFoundError as e:
    raise ModuleNotFoundError(
        "gymnasium module not found. pamiq_core.gym needs Gymnasium, which comes "
        "with the gym extra:\n\n    pip install pamiq-core[gym]\n"
    ) from e

from .agent import GymAgent
from .env import GymEnvironment

__all__ = ["GymAgent", "GymEnvironment"]
