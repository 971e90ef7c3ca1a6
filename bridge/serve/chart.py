"""A workflow's history as a picture: the verdict of each comparison over time, and both sides' times.

Geometry only: numbers and fixed class names, which a template draws as inline SVG (no script, no CDN).
Oldest on the left; one column per comparison. The top strip holds a dot per verdict; below, each side's
times as lines: waited (trigger → end), solid, and ran (start → end), dashed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.report.view import VERDICTS, duration, number

WIDTH, HEIGHT = 900, 220
LEFT, RIGHT, TOP, STRIP = 56, 12, 10, 22  # margins; the verdict strip's height
BOTTOM = 24
SERIES = (
    ("airflow", "elapsed_s", "airflow waited"),
    ("airflow", "duration_s", "airflow ran"),
    ("prefect", "elapsed_s", "prefect waited"),
    ("prefect", "duration_s", "prefect ran"),
)


def _when(value: Any) -> str:
    """A stored time, to the second (``2026-12-03 17:09:04``)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value or "")


def draw(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The picture of ``points`` (``queries.timeline``: oldest first)."""
    n = len(points)
    plot_top, plot_bottom = TOP + STRIP + 8, HEIGHT - BOTTOM
    inner = WIDTH - LEFT - RIGHT
    step = inner / max(n - 1, 1)
    xs = [LEFT + (i * step if n > 1 else inner / 2) for i in range(n)]
    values = [number(p.get(f"{side}_{field}")) for p in points for side, field, _ in SERIES]
    top = max([v for v in values if v is not None], default=0.0) or 1.0

    def y(value: float) -> float:
        return plot_bottom - (value / top) * (plot_bottom - plot_top)

    dots = []
    for x, p in zip(xs, points, strict=True):
        verdict = p.get("verdict")
        times = ", ".join(f"{label} {duration(p.get(f'{side}_{field}'))}" for side, field, label in SERIES)
        dots.append(
            {
                "x": round(x, 1),
                "y": TOP + STRIP / 2,
                "css": verdict if verdict in VERDICTS else "unknown",
                "id": p.get("id"),
                "title": f"#{p.get('id')} {verdict} ({p.get('origin')}) at {_when(p.get('at'))}: {times}",
            }
        )
    lines = []
    for side, field, label in SERIES:
        coords = [
            f"{x:.1f},{y(v):.1f}"
            for x, p in zip(xs, points, strict=True)
            if (v := number(p.get(f"{side}_{field}"))) is not None
        ]
        lines.append(
            {
                "side": side,
                "kind": "waited" if field == "elapsed_s" else "ran",
                "label": label,
                "points": " ".join(coords),
            }
        )
    ticks = [{"y": round(y(top * f), 1), "label": duration(top * f)} for f in (0.0, 0.5, 1.0)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "plot_bottom": plot_bottom,
        "dots": dots,
        "lines": lines,
        "ticks": ticks,
        "count": n,
        "first": _when(points[0].get("at")) if points else None,
        "last": _when(points[-1].get("at")) if points else None,
    }
