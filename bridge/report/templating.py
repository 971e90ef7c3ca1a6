"""The one set of Jinja2 templates (``bridge/report/templates``) behind the static HTML report and the
dashboard (``bridge serve``).

Autoescape is on for every template, and every value printed goes through ``html.escape(..., quote=True)``
(the environment's ``finalize``: values that are not already markup become escaped text, ``None`` empty,
non-strings JSON), so a value is escaped the same way in text and in quoted attributes wherever it is
shown. Only :func:`link` makes links, and only to absolute http(s) URLs (``view.safe_url``).
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bridge.report import view
from bridge.report.style import CSP, CSS

__all__ = ["environment", "esc", "link", "render_template"]


def esc(value: Any) -> Markup:
    """Any value as escaped text, safe in element content and in a quoted attribute."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(view.text(value), quote=True))


def link(label: Any, url: Any) -> Markup:
    """``<a>`` to an absolute http(s) URL; anything else is shown as text (or "no link")."""
    safe = view.safe_url(url)
    if safe is None:
        if url:
            return Markup('<span class="mono url-text">%s</span>') % esc(url)
        return Markup('<span class="empty">no link</span>')
    return Markup('<a href="%s" rel="noopener noreferrer">%s</a>') % (esc(safe), esc(label or safe))


def _css_class(value: Any, known: tuple[str, ...]) -> str:
    """A CSS class from a fixed list: anything else is ``unknown``."""
    return value if isinstance(value, str) and value in known else "unknown"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bridge.report", "templates"),
        autoescape=True,
        finalize=esc,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.globals.update(
        view=view,
        link=link,
        css_class=_css_class,
        CSS=Markup(CSS),
        CSP=CSP,
        VERDICTS=view.VERDICTS,
        KINDS=view.KINDS,
    )
    env.filters.update(duration=view.duration, text=view.text, value_text=view.value_text)
    return env


def render_template(template: str, /, **context: Any) -> str:
    """One template rendered with ``context``; the page ends with a newline."""
    out = environment().get_template(template).render(**context)
    return out if out.endswith("\n") else out + "\n"
