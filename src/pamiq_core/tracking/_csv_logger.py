"""A logger that appends rows to a CSV file; no dependency."""

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._logger import RunInfo
from ._record import HParamValue, ScalarRecord

HEADER = ["wall_time", "step", "name", "value"]
"""The CSV file's columns, one row per logged value."""


class CSVLogger:
    """Appends each logged value as a row ``wall_time,step,name,value``.

    The file is opened for appending, so a resumed system continues the same file
    (its steps continue too). Hyperparameters go to a JSON file beside it,
    ``<name>.hparams.json``, holding every one logged so far.
    """

    def __init__(self, path: str | Path) -> None:
        """Write to ``path`` (its folder is created at open)."""
        self.path = Path(path)
        self.hparams_path = self.path.with_name(self.path.stem + ".hparams.json")
        self._file: io.TextIOWrapper | None = None
        self._hparams: dict[str, HParamValue] = {}

    def open(self, run: RunInfo) -> None:
        """Open the file for appending; write the header if it is new.

        Raises:
            ValueError: If the file exists with other columns than :data:`HEADER`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open(newline="", encoding="utf-8") as existing:
                header = next(csv.reader(existing), None) or []
            if header != HEADER:
                raise ValueError(
                    f"CSVLogger: '{self.path}' exists with the columns {header}, not "
                    f"{HEADER}; give another path or remove the file."
                )
            if self.hparams_path.exists():
                self._hparams = json.loads(self.hparams_path.read_text("utf-8"))
            new = False
        else:
            new = True
        self._file = self.path.open("a", newline="", encoding="utf-8")
        if new:
            csv.writer(self._file).writerow(HEADER)

    def write(self, records: Sequence[ScalarRecord]) -> None:
        """Append one row per record."""
        csv.writer(self._opened()).writerows(
            (wall_time, step, name, value) for name, value, step, wall_time in records
        )

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        """Merge ``hparams`` into the JSON file (replaced atomically)."""
        self._hparams.update(hparams)
        temporary = self.hparams_path.with_name(self.hparams_path.name + ".tmp")
        temporary.write_text(json.dumps(self._hparams, indent=2), encoding="utf-8")
        os.replace(temporary, self.hparams_path)

    def flush(self) -> None:
        """Flush the rows to the operating system, so ``tail -f`` sees them."""
        self._opened().flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _opened(self) -> io.TextIOWrapper:
        if self._file is None:
            raise RuntimeError(f"CSVLogger('{self.path}') is not open.")
        return self._file
