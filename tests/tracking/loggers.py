"""Loggers written the way a user writes one: plain classes with the five methods."""

from collections.abc import Mapping, Sequence

from pamiq_core.tracking import HParamValue, RunInfo, ScalarRecord


class ListLogger:
    """Keeps everything it is given, and the order of the calls."""

    def __init__(self, resume_token: Mapping[str, str] | None = None) -> None:
        self.runs: list[RunInfo] = []
        self.records: list[ScalarRecord] = []
        self.batches: list[int] = []
        self.hparams: list[dict[str, HParamValue]] = []
        self.calls: list[str] = []
        self.resume_token = resume_token

    def open(self, run: RunInfo) -> Mapping[str, str] | None:
        self.calls.append("open")
        self.runs.append(run)
        return self.resume_token

    def write(self, records: Sequence[ScalarRecord]) -> None:
        self.calls.append("write")
        self.batches.append(len(records))
        self.records.extend(records)

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        self.calls.append("log_hparams")
        self.hparams.append(dict(hparams))

    def flush(self) -> None:
        self.calls.append("flush")

    def close(self) -> None:
        self.calls.append("close")

    def values(self, name: str) -> list[tuple[int, float]]:
        """``(step, value)`` of every record of series ``name``."""
        return [(r.step, r.value) for r in self.records if r.name == name]


class BrokenLogger(ListLogger):
    """Raises in the methods named in ``fails``."""

    def __init__(self, *fails: str) -> None:
        super().__init__()
        self.fails = set(fails)

    def open(self, run: RunInfo) -> Mapping[str, str] | None:
        if "open" in self.fails:
            raise ConnectionError("tracking server unreachable")
        return super().open(run)

    def write(self, records: Sequence[ScalarRecord]) -> None:
        if "write" in self.fails:
            raise OSError("disk full")
        super().write(records)

    def log_hparams(self, hparams: Mapping[str, HParamValue]) -> None:
        if "log_hparams" in self.fails:
            raise ValueError("bad hparams")
        super().log_hparams(hparams)

    def flush(self) -> None:
        if "flush" in self.fails:
            raise OSError("flush failed")
        super().flush()

    def close(self) -> None:
        if "close" in self.fails:
            raise OSError("close failed")
        super().close()
