"""What a published verdict says, in each place's format: the Airflow note (plain, under 1,000
characters), the Prefect artifact (markdown, with the table diff summary), the alert's text and fields.

Every value that comes from a run (conf values, paths, errors, keys) is escaped for markdown and has its
secrets masked (:func:`redact`): a password in a database URL, ``token=...`` in a query string, the value
of a conf key that names a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bridge.backends.base import NOTE_LIMIT
from bridge.config import SECRET_KEYS

NOTE_MARKER = (
    "bridge verdict:"  # the first words of the bridge's block in a note (bridge.backends.base.merge_note)
)
MAX_ROWS = 10  # value differences / tables listed in the artifact
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)([^/@\s:]*):([^@\s/]+)@", re.I)
_SECRET_PARAM = re.compile(rf"\b((?:{'|'.join(SECRET_KEYS)})[a-z_]*\s*[=:]\s*)([^\s&,;\"']+)", re.I)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def redact(text: str) -> str:
    """``text`` with the passwords of URLs and the values of ``password=``/``token=``... masked."""
    return _SECRET_PARAM.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1\2:***@", text))


def md(value: Any, limit: int = 120) -> str:
    """``value`` as markdown text: redacted, cut to ``limit`` characters, one line, special characters
    escaped (so a value can neither format nor link nor break a table)."""
    text = redact(value if isinstance(value, str) else repr(value)).replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def plain(value: Any, limit: int = 120) -> str:
    """``value`` as one redacted line of plain text, cut to ``limit`` characters."""
    text = redact(value if isinstance(value, str) else repr(value)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_conf(conf: Mapping[str, Any]) -> dict[str, Any]:
    """``conf`` with the values of keys that name a secret masked."""
    return {k: "***" if any(s in k.lower() for s in SECRET_KEYS) else v for k, v in conf.items()}


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "?"


def side_line(side: Any) -> str:
    """``airflow success (waited 3.2 s, ran 2.9 s)``."""
    return f"{side.side} {side.state} (waited {_seconds(side.elapsed_s)}, ran {_seconds(side.duration_s)})"


def _when(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def note_text(result: Any, link: str, limit: int = NOTE_LIMIT) -> str:
    """The DAG run's note: verdict and counts, each side, the link; never over ``limit`` characters (the
    link is kept whole: the counts are cut first)."""
    tally = result.tally
    head = f"{NOTE_MARKER} {result.verdict} ({tally.describe()})"
    lines = [
        f"comparison #{result.comparison_id} · origin {result.origin} · {_when()}",
        f"{side_line(result.primary)} · {side_line(result.shadow)}",
        f"values: {tally.values} differ, {tally.ignored} ignored, {tally.noise} noise",
    ]
    lines += [f"table {plain(t, 60)}: {n} row(s) differ" for t, n in tally.rows[:5]]
    lines += [f"error: {plain(s.error, 200)}" for s in result.sides() if s.error]
    tail = f"details: {link}"
    body = "\n".join([plain(head, 300), *lines])
    room = limit - len(tail) - 1
    if len(body) > room:
        body = body[: max(0, room - 1)] + "…"
    return f"{body}\n{tail}"


def _run_cell(side: Any) -> str:
    label = md(side.run or "—", 80)
    return f"[{label}]({side.url})" if side.url and side.url.startswith(("http://", "https://")) else label


def artifact_markdown(result: Any, link: str) -> str:
    """The flow run's artifact: the note's content as markdown, plus the differences and table diffs."""
    p, s = result.primary, result.shadow
    out = [
        f"### bridge verdict: **{md(result.verdict)}** ({md(result.tally.describe(), 300)})",
        "",
        f"Comparison #{result.comparison_id} of `{md(result.workflow)}`, origin {md(result.origin)}, {_when()}. "
        f"[Open it in the bridge dashboard]({link})",
        "",
        "| | Airflow (primary) | Prefect (shadow) |",
        "|---|---|---|",
        f"| run | {_run_cell(p)} | {_run_cell(s)} |",
        f"| state | {md(p.state)} | {md(s.state)} |",
        f"| waited (trigger → end) | {_seconds(p.elapsed_s)} | {_seconds(s.elapsed_s)} |",
        f"| ran (start → end) | {_seconds(p.duration_s)} | {_seconds(s.duration_s)} |",
    ]
    errors = [f"- {side.side}: {md(side.error, 300)}" for side in result.sides() if side.error]
    if errors:
        out += ["", "**Errors**", *errors]
    real = result.real_differences
    if real:
        out += [
            "",
            f"**Value differences** ({len(real)})",
            "",
            "| path | airflow | prefect |",
            "|---|---|---|",
        ]
        out += [f"| {md(d.path)} | {md(d.airflow, 60)} | {md(d.prefect, 60)} |" for d in real[:MAX_ROWS]]
        if len(real) > MAX_ROWS:
            out.append(f"\n… and {len(real) - MAX_ROWS} more in the dashboard")
    if result.set_aside:
        out += [
            "",
            f"{len(result.set_aside)} difference(s) set aside (ignored by a rule, or calibrated noise).",
        ]
    if result.tables:
        out += ["", "**Tables**", "", "| table | rows airflow / prefect | differing | sample keys |"]
        out.append("|---|---|---|---|")
        for t in result.tables[:MAX_ROWS]:
            keys = [*t.only_airflow, *t.only_prefect, *(c.key for c in t.changed)][:3]
            state = "excluded" if t.excluded else ("error" if t.error else str(t.rows_differing))
            shown = ", ".join(md(k, 40) for k in keys) or "—"
            out.append(f"| {md(t.table)} | {t.airflow_rows} / {t.prefect_rows} | {state} | {shown} |")
    return "\n".join(out) + "\n"
