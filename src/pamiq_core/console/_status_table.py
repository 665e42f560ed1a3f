"""The metrics of ``GET /api/metrics`` as plain-text tables, for ``pamiq-console``."""

import math
from collections.abc import Mapping, Sequence
from typing import Any


def format_seconds(value: object) -> str:
    """A duration in the unit that suits it (``"-"`` when not measured)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    size = abs(value)
    if size == 0:
        return "0 s"
    if size < 1e-3:
        return f"{value * 1e6:.1f} us"
    if size < 1:
        return f"{value * 1e3:.2f} ms"
    if size < 60:
        return f"{value:.2f} s"
    return format_clock(value)


def format_clock(value: object) -> str:
    """Seconds as ``1h 02m 03s`` (``"-"`` when not measured)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    seconds = max(0, int(value))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


def _number(value: object, decimals: int = 0) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:,.{decimals}f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, others right."""
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows))
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def _section(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> list[str]:
    if not rows:
        return [f"{title}: none"]
    return _table([title, *headers], rows)


def format_metrics(metrics: Mapping[str, Any], address: str) -> str:
    """Readable tables of a metrics snapshot (the JSON of ``GET /api/metrics``).

    Args:
        metrics: The snapshot.
        address: Where the system was reached, shown in the first line.
    """
    system: Mapping[str, Any] = metrics.get("system", {})
    inference: Mapping[str, Any] = metrics.get("inference", {})
    scale = system.get("time_scale")
    uptime = f"{format_clock(system.get('uptime_real'))} real"
    if system.get("uptime") is not None:
        uptime += f", {format_clock(system.get('uptime'))} pamiq time"
    if isinstance(scale, int | float) and scale != 1:
        uptime += f" (time scale {scale:g})"
    last_save = system.get("last_save")
    if last_save:
        ago = metrics.get("time", math.nan) - last_save.get("time", math.nan)
        saved = f"{last_save.get('path')} ({format_clock(ago)} ago)"
    else:
        saved = "none while running"
    summary = [
        ("system", address),
        ("status", str(system.get("status_name") or "unknown")),
        ("uptime", uptime),
        (
            "inference",
            f"{_number(inference.get('steps'))} steps, "
            f"{_number(inference.get('steps_per_second'), 1)} steps/s",
        ),
        (
            "step period",
            f"p50 {format_seconds(inference.get('period_p50'))}, "
            f"p99 {format_seconds(inference.get('period_p99'))}, "
            f"max {format_seconds(inference.get('period_max'))}",
        ),
        ("last save", saved),
    ]
    width = max(len(label) for label, _ in summary)
    lines = [f"{label:<{width}}  {value}" for label, value in summary]

    trainers: Mapping[str, Mapping[str, Any]] = metrics.get("trainers", {})
    models: Mapping[str, Mapping[str, Any]] = metrics.get("models", {})
    buffers: Mapping[str, Mapping[str, Any]] = metrics.get("buffers", {})
    lines.append("")
    lines += _section(
        "trainer",
        ["runs", "last", "mean", "since last"],
        [
            [
                name,
                _number(t.get("runs")),
                format_seconds(t.get("last_duration")),
                format_seconds(t.get("mean_duration")),
                format_seconds(t.get("since_last_run")),
            ]
            for name, t in trainers.items()
        ],
    )
    lines.append("")
    lines += _section(
        "model",
        ["syncs", "training v.", "inference v.", "behind", "last sync"],
        [
            [
                name,
                _number(m.get("syncs")),
                _number(m.get("training_version")),
                _number(m.get("inference_version")),
                _number(m.get("versions_behind")),
                format_seconds(m.get("last_sync_duration")),
            ]
            for name, m in models.items()
        ],
    )
    lines.append("")
    lines += _section(
        "buffer",
        ["size", "capacity", "fill"],
        [
            [
                name,
                _number(b.get("size")),
                _number(b.get("capacity")),
                _fill(b.get("size"), b.get("capacity")),
            ]
            for name, b in buffers.items()
        ],
    )
    return "\n".join(lines)


def _fill(size: object, capacity: object) -> str:
    if (
        isinstance(size, int | float)
        and isinstance(capacity, int | float)
        and capacity > 0
    ):
        return f"{100 * size / capacity:.0f}%"
    return "-"
