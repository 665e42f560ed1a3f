"""A logger that records into an MLflow run (the ``mlflow`` extra)."""

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ._logger import RunInfo
from ._record import HParamValue, ScalarRecord

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

_MISSING = "MLflowLogger needs MLflow: pip install 'pamiq-core[mlflow]'"
_BATCH = 1000  # MLflow takes at most 1000 metrics per log_batch
_PARAMS_BATCH = 100  # and at most 100 params
_UNSAFE = re.compile(r"[^\w.\- ]")


def mlflow_key(name: str) -> str:
    """``name`` as an MLflow metric or param key.

    MLflow keys may hold letters, digits, ``_ - . /`` and spaces, and must be
    normalized paths; other characters become ``_`` and empty or dot segments are
    replaced, so that no record is refused for its name.
    """
    parts = [_UNSAFE.sub("_", part) for part in name.split("/") if part]
    parts = [part if part.strip(".") else part.replace(".", "_") for part in parts]
    return "/".join(parts) or "_"


class MLflowLogger:
    """Logs every scalar as an MLflow metric and hyperparameters as params.

    By default the run is stored in a local file store, ``./mlruns`` (browse it
    with ``mlflow ui --backend-store-uri ./mlruns``); give ``tracking_uri`` for a
    server or another store. MLflow 3 keeps its file store in maintenance mode and
    refuses it unless ``MLFLOW_ALLOW_FILE_STORE`` is true, so for a folder this
    logger sets that variable in the process (unless it is already set); the file
    store needs no database and opens at once.

    A resumed system continues the same run: its id is kept in the system's saved
    state. MLflow params cannot change within a run, so a resumed run that logs a
    different value for a param is refused (that ``log_hparams`` call fails, is
    logged once and counted).
    """

    def __init__(
        self,
        tracking_uri: str | Path | None = None,
        experiment_name: str = "pamiq-core",
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Log into ``experiment_name`` at ``tracking_uri``.

        Args:
            tracking_uri: An MLflow tracking URI with a scheme (``file:``,
                ``http:``, ``sqlite:``...), or a folder for a local file store;
                default ``./mlruns`` (resolved when the logger opens).
            experiment_name: Created if it does not exist.
            run_name: Name of a new run (MLflow picks one if None).
            tags: Tags of a new run.

        Raises:
            ImportError: If MLflow is not installed.
        """
        try:
            import mlflow  # noqa: F401, PLC0415  # pyright: ignore[reportUnusedImport]
        except ImportError as e:
            raise ImportError(_MISSING) from e
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.tags = dict(tags or {})
        self.run_id: str | None = None
        """The run being logged into, once open."""
        self._client: MlflowClient | None = None
        self._keys: dict[str, str] = {}

    def open(self, run: RunInfo) -> dict[str, str]:
        """Continue the run of ``run.resume`` if the store has it, else start one.

        Returns:
            ``{"run_id": ...}``, kept in the saved state for a resumed system.
        """
        from mlflow.exceptions import MlflowException  # noqa: PLC0415
        from mlflow.tracking import MlflowClient  # noqa: PLC0415

        uri = self._resolved_uri()
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        client = MlflowClient(tracking_uri=uri)
        run_id = run.resume.get("run_id")
        if run_id is not None:
            try:
                client.get_run(run_id)
            except MlflowException:
                logger.warning(
                    f"MLflow run {run_id} of the resumed snapshot is not in "
                    f"{self._resolved_uri()}; starting a new run."
                )
                run_id = None
            else:
                client.update_run(run_id, status="RUNNING")
        if run_id is None:
            experiment = client.get_experiment_by_name(self.experiment_name)
            experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else client.create_experiment(self.experiment_name)
            )
            run_id = client.create_run(
                experiment_id, run_name=self.run_name, tags=self.tags
            ).info.run_id
        self._client, self.run_id = client, run_id
        return {"run_id": run_id}

    def write(self, records: Sequence[ScalarRecord]) -> None:
        """Log the records as metrics, up to 1000 per request."""
        from mlflow.entities import Metric  # noqa: PLC0415

        client, run_id = self._opened()
        keys = self._keys
        metrics = [
            Metric(
                keys.get(name) or keys.setdefault(name, mlflow_key(name)),
                value,
                int(wall_time * 1000),
                step,
            )
            for name, value, step, wall_time in records
        ]
        for start in range(0, len(metrics), _BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + _BATCH])

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        """Log new params; skip those the run already has with the same value.

        Raises:
            ValueError: If the run already has one of them with another value
                (the others are logged).
        """
        from mlflow.entities import Param  # noqa: PLC0415

        client, run_id = self._opened()
        existing = client.get_run(run_id).data.params
        new: list[Param] = []
        changed: list[str] = []
        for name, value in hparams.items():
            key, text = mlflow_key(name), str(value)
            if key not in existing:
                new.append(Param(key, text))
            elif existing[key] != text:
                changed.append(f"{key}: {existing[key]!r} -> {text!r}")
        for start in range(0, len(new), _PARAMS_BATCH):
            client.log_batch(run_id, params=new[start : start + _PARAMS_BATCH])
        if changed:
            raise ValueError(
                f"MLflow run {run_id} already has other values for these params, "
                f"and MLflow never changes a run's params: {changed}. Start a new "
                "run to change them."
            )

    def flush(self) -> None:
        """Nothing to do: every request is written when made."""

    def close(self) -> None:
        """Mark the run finished."""
        if self._client is not None and self.run_id is not None:
            self._client.set_terminated(self.run_id, status="FINISHED")
        self._client = None

    @property
    def resolved_tracking_uri(self) -> str:
        """The URI the logger uses: a folder becomes an absolute ``file:`` URI."""
        return self._resolved_uri()

    def _resolved_uri(self) -> str:
        uri = self.tracking_uri
        if uri is None:
            return Path("mlruns").resolve().as_uri()
        if isinstance(uri, Path) or not (urlparse(uri).scheme or uri == "databricks"):
            return Path(uri).resolve().as_uri()
        return uri

    def _opened(self) -> "tuple[MlflowClient, str]":
        if self._client is None or self.run_id is None:
            raise RuntimeError("MLflowLogger is not open.")
        return self._client, self.run_id
