"""The report as one self-contained HTML page: inline CSS, no script, nothing loaded from anywhere.

Rendered from the Jinja2 templates the dashboard uses too (``bridge/report/templates``, see
``bridge.report.templating``): autoescape on, every value through ``html.escape(..., quote=True)``, in text
and in attributes. CSS classes are chosen from fixed lists (an unknown verdict or kind gets ``unknown``),
element ids are our own counters, and only absolute http(s) URLs become links; anything else is shown as
text. A Content-Security-Policy in the page forbids scripts and every external load, should anything
slip by.
"""

from __future__ import annotations

from typing import Any

from bridge.report import view
from bridge.report.templating import render_template

__all__ = ["latest_entry", "render_html"]


def latest_entry(workflow: dict[str, Any]) -> dict[str, Any]:
    """The latest comparison of a workflow, else its newest history entry, else nothing."""
    latest = view.as_dict(workflow.get("latest"))
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    return latest or (history[0] if history else {})


def render_html(report: Any) -> str:
    data = view.as_dict(report)
    return render_template(
        "report.html",
        flows=view.workflows(data),
        generated=view.text(data.get("generated_at")),
        latest_entry=latest_entry,
    )
