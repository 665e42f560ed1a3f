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

    Missing values show as ``-``, so a partial snapshot still renders.

    Args:
        metrics: The snapshot.
        address: Where the system was reached, shown in the first line.
    """
    sections = [
        _overview(metrics, address),
        _trainers(metrics.get("trainers", {})),
        _models(metrics.get("models", {})),
        _buffers(metrics.get("buffers", {})),
    ]
    groups: Mapping[str, Mapping[str, Any]] = metrics.get("groups") or {}
    if groups:  # only where groups train elsewhere (Ray mode)
        sections.append(_groups(groups))
    scalars = metrics.get("scalars")
    if scalars is not None:  # None: the system keeps no scalars
        sections.append(_scalars(scalars, metrics.get("time")))
    return "\n\n".join("\n".join(lines) for lines in sections)


def _overview(metrics: Mapping[str, Any], address: str) -> list[str]:
    """The system's status, uptime, inference rate, step period and saves."""
    system: Mapping[str, Any] = metrics.get("system", {})
    inference: Mapping[str, Any] = metrics.get("inference", {})
    now = metrics.get("time", math.nan)
    rows = [
        ("system", address),
        ("status", str(system.get("status_name") or "unknown")),
        ("uptime", _uptime(system)),
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
        ("last save", _last_save(system.get("last_save"), now)),
        (
            "failed saves",
            _save_failures(
                system.get("save_failures"), system.get("last_save_failure"), now
            ),
        ),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"{label:<{width}}  {value}" for label, value in rows]


def _uptime(system: Mapping[str, Any]) -> str:
    uptime = f"{format_clock(system.get('uptime_real'))} real"
    if system.get("uptime") is not None:
        uptime += f", {format_clock(system.get('uptime'))} pamiq time"
    scale = system.get("time_scale")
    if isinstance(scale, int | float) and scale != 1:
        uptime += f" (time scale {scale:g})"
    return uptime


def _ago(when: object, now: object) -> str:
    if isinstance(when, int | float) and isinstance(now, int | float):
        return f"{format_clock(now - when)} ago"
    return "when unknown"


def _last_save(last_save: Mapping[str, Any] | None, now: object) -> str:
    if not last_save:
        return "none while running"
    return f"{last_save.get('path')} ({_ago(last_save.get('time'), now)})"


def _save_failures(count: object, last: Mapping[str, Any] | None, now: object) -> str:
    if not last:
        return "none" if count in (0, None) else _number(count)
    where = f" ({last['path']})" if last.get("path") else ""
    return (
        f"{_number(count)}, the latest {_ago(last.get('time'), now)}: "
        f"{last.get('message')}{where}"
    )


def _trainers(trainers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Runs per trainer; a trainer that trains models it never syncs is marked."""
    lines = _section(
        "trainer",
        ["runs", "last", "mean", "since last"],
        [
            [
                name + (" (!)" if t.get("unsynced_models") else ""),
                _number(t.get("runs")),
                format_seconds(t.get("last_duration")),
                format_seconds(t.get("mean_duration")),
                format_seconds(t.get("since_last_run")),
            ]
            for name, t in trainers.items()
        ],
    )
    for name, t in trainers.items():
        if unsynced := t.get("unsynced_models"):
            lines.append(
                f"(!) {name} holds models it did not fetch, which its runs never "
                f"sync: {', '.join(unsynced)}; fetch them with get_training_model"
            )
    return lines


def _models(models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Syncs and versions; a model whose syncs feed no inference model shows none."""
    return _section(
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


def _buffers(buffers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return _section(
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


def _groups(groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Where each group runs and whether it is up; a group being restarted is down."""
    return _section(
        "group",
        ["status", "on", "restarts", "sent", "dropped", "updates", "last update"],
        [
            [
                name,
                str(g.get("status", "-")),
                str(g.get("where") or "-"),
                _number(g.get("restarts")),
                _number(g.get("items_sent")),
                _number(g.get("items_dropped")),
                _number(g.get("parameter_updates")),
                format_seconds(g.get("last_parameter_delay")),
            ]
            for name, g in groups.items()
        ],
    )


def _fill(size: object, capacity: object) -> str:
    if (
        isinstance(size, int | float)
        and isinstance(capacity, int | float)
        and capacity > 0
    ):
        return f"{100 * size / capacity:.0f}%"
    return "-"


def _scalars(scalars: Mapping[str, Any], now: object) -> list[str]:
    """The latest value of each logged series, by component, and any losses."""
    groups: Mapping[str, Mapping[str, Mapping[str, Any]]] = scalars.get("groups", {})
    rows = [
        [
            f"{group}/{name}" if group else name,
            _number(latest.get("step")),
            _value(latest.get("value")),
            _ago(latest.get("time"), now),
        ]
        for group, series in groups.items()
        for name, latest in ((n, s.get("latest", {})) for n, s in series.items())
    ]
    lines = (
        _table(["scalar", "step", "latest", "logged"], rows)
        if rows
        else ["scalars: none logged"]
    )
    stats: Mapping[str, Any] = scalars.get("stats", {})
    failures = {k: v for k, v in stats.get("logger_failures", {}).items() if v}
    if stats.get("dropped") or failures:
        lost = f"{_number(stats.get('dropped'))} values dropped (queue full)"
        if failures:
            lost += ", failed logger calls: " + ", ".join(
                f"{key} {_number(count)}" for key, count in failures.items()
            )
        lines.append(lost)
    return lines


def _value(value: object) -> str:
    """A logged value with six significant digits (``"-"`` if not finite)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:.6g}"
