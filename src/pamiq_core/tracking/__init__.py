"""Log scalars from any component to experiment trackers, off the agent's time.

Components log with ``self.log_scalar("loss", x)`` (trainers, agents,
environments); other code in a running system with :func:`log_scalar`. A call only
appends a record to a bounded queue (about a microsecond, no lock, no I/O; a full
queue drops and counts); one background thread hands the records in batches to
the configured loggers (:class:`TensorBoardLogger`, :class:`CSVLogger`,
:class:`MLflowLogger`, or any :class:`TrackingLogger`) and to an in-memory
:class:`ScalarHistory` for the dashboard.

Names are namespaced by where a component sits in the system:
``trainers/<name>/...``, ``agent/...``, ``agent/<child>/...``,
``environment/...``; module-level calls use names as given. See the guide page
``docs/tracking.md``.
"""

from ._component import TrackingMixin
from ._csv_logger import CSVLogger
from ._history import ScalarHistory
from ._hooks import SystemEventMixin
from ._logger import RunInfo, TrackingLogger
from ._mlflow_logger import MLflowLogger
from ._record import HParamsRecord, HParamValue, ScalarRecord, flatten_hparams
from ._route import dropped_without_tracker, log_hparams, log_scalar, log_scalars
from ._system import SystemTracking, system_components
from ._tensorboard_logger import TensorBoardLogger
from ._tracker import Tracker, active_tracker, record_event

__all__ = [
    "log_scalar",
    "log_scalars",
    "log_hparams",
    "record_event",
    "active_tracker",
    "dropped_without_tracker",
    "Tracker",
    "ScalarHistory",
    "TrackingLogger",
    "RunInfo",
    "ScalarRecord",
    "HParamsRecord",
    "HParamValue",
    "flatten_hparams",
    "CSVLogger",
    "TensorBoardLogger",
    "MLflowLogger",
    "TrackingMixin",
    "SystemEventMixin",
    "SystemTracking",
    "system_components",
]
