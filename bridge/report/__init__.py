"""Render the shadow report (built by the store as one plain dict) as JSON, Markdown or HTML.

    render(report, "json" | "md" | "html") -> str

The renderers treat every field as possibly missing and every string as hostile: the HTML escapes every
value and links only http(s) URLs, the Markdown keeps data in code spans and escapes table syntax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.errors import UsageError
from bridge.report.html import render_html
from bridge.report.json_report import render_json
from bridge.report.markdown import render_markdown

__all__ = ["EXTENSIONS", "FORMATS", "render", "render_html", "render_json", "render_markdown"]

FORMATS = ("json", "md", "html")
EXTENSIONS = {"json": ".json", "md": ".md", "html": ".html"}

_RENDERERS: dict[str, Callable[[Any], str]] = {
    "json": render_json,
    "md": render_markdown,
    "html": render_html,
}
_ALIASES = {"markdown": "md", "htm": "html"}


def render(report: dict[str, Any], fmt: str) -> str:
    """The report in one format; an unknown format is a UsageError that lists the known ones."""
    name = fmt.strip().lower() if isinstance(fmt, str) else ""
    name = _ALIASES.get(name, name)
    if name not in _RENDERERS:
        raise UsageError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _RENDERERS[name](report)
