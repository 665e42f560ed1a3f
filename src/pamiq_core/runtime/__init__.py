"""Where a launched system's training side runs: the seam and its transports.

The agent side (interaction, inference models, data collectors, the control thread
and its web API, the metrics) always runs in the launching process. The training side
(trainers, the training models and buffers they use) runs where
``LaunchConfig(training=...)`` puts it; :class:`~.seam.TrainingSide` is the one seam
each mode implements (see ``ARCHITECTURE.md`` section 5). Ray mode's configuration,
:class:`RayConfig` and :class:`RayGroup`, is importable without Ray.
"""

from .ray_config import RayConfig, RayGroup

__all__ = ["RayConfig", "RayGroup"]
