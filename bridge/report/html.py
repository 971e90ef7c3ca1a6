"""The report as one self-contained HTML page: inline CSS, no script, nothing loaded from anywhere.

Every value from the data passes through ``html.escape(..., quote=True)``, in text and in attributes.
CSS classes are chosen from fixed lists (an unknown verdict or kind gets ``unknown``), element ids are
our own counters, and only absolute http(s) URLs become links; anything else is shown as text. A
Content-Security-Policy in the page forbids scripts and every external load, should anything slip by.
"""

from __future__ import annotations

import html
from typing import Any

from bridge.report import view

__all__ = ["render_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 6px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.meta { color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
section.workflow { border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 22px 0; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #ffffff; background: #6e7781; white-space: nowrap; }
.verdict-match { background: #1a7f37; }
.verdict-mismatch { background: #cf222e; }
.verdict-shadow_failed { background: #bc4c00; }
.verdict-primary_failed { background: #8250df; }
.verdict-both_failed { background: #82071e; }
.verdict-none { background: #afb8c1; color: #1f2328; }
table.sides { width: auto; min-width: 60%; }
table.sides td.side { min-width: 260px; }
.bar { height: 8px; border-radius: 4px; margin-top: 4px; background: #8c959f; }
.bar.airflow { background: #017cee; }
.bar.prefect { background: #2b2ba8; }
tr.diff-row td, tr.key-row td { background: #ffffff; }
tr.kind-changed td, tr.kind-row_changed td { background: #fff3cd; }
tr.kind-type_changed td { background: #ffe0cc; }
tr.kind-only_airflow td { background: #dbeafe; }
tr.kind-only_prefect td { background: #ede4ff; }
tr.kind-noise td { background: #f0f0f0; color: #6e7781; }
tr.kind-unknown td { background: #fde2e2; }
tr.kind-noise .kind { font-style: italic; font-weight: 400; }
td.note, td.value { white-space: pre-wrap; }
td.at code { white-space: nowrap; }
.kind { font-weight: 600; white-space: nowrap; }
td.absent { color: #8c959f; font-style: italic; }
tr.table-equal td.status { color: #1a7f37; font-weight: 600; }
tr.table-differs td.status, tr.table-error td.status { color: #cf222e; font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
a { color: #0969da; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
"""


def render_html(report: Any) -> str:
    data = view.as_dict(report)
    flows = view.workflows(data)
    generated = view.text(data.get("generated_at"))
    body = [
        "<header>",
        "<h1>Shadow report</h1>",
        f'<p class="meta">Generated {_code(generated) if generated else "at an unknown time"} · '
        f"{len(flows)} workflow{'' if len(flows) == 1 else 's'}</p>",
        "</header>",
    ]
    if flows:
        body += _summary(flows)
        for number, workflow in enumerate(flows, start=1):
            body += _workflow(number, workflow)
    else:
        body.append('<p class="empty">No workflow has a shadow run yet.</p>')
    body.append(
        "<footer>Airflow is authoritative; Prefect runs the same work on a shadow target. "
        "Noise paths were found by running the primary against itself.</footer>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="referrer" content="no-referrer">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Shadow report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


# -- pieces -----------------------------------------------------------------------------------------
def esc(value: Any) -> str:
    """Any value as escaped text, safe in element content and in a quoted attribute."""
    return html.escape(view.text(value), quote=True)


def _code(value: Any) -> str:
    shown = view.text(value)
    return f"<code>{html.escape(shown, quote=True)}</code>" if shown else ""


def link(label: Any, url: Any) -> str:
    safe = view.safe_url(url)
    if safe is None:
        return (
            f'<span class="mono url-text">{esc(url)}</span>' if url else '<span class="empty">no link</span>'
        )
    return f'<a href="{html.escape(safe, quote=True)}" rel="noopener noreferrer">{esc(label or safe)}</a>'


def badge(verdict: Any) -> str:
    if verdict is None:
        return '<span class="badge verdict-none">no runs</span>'
    css = verdict if verdict in view.VERDICTS else "unknown"
    return f'<span class="badge verdict-{css}" data-verdict="{esc(verdict)}">{esc(verdict)}</span>'


def _num(value: Any) -> str:
    return esc(value) if value is not None else "—"


def _differences_count(workflow: dict[str, Any]) -> str:
    latest = view.as_dict(workflow.get("latest"))
    diffs = latest.get("differences")
    if isinstance(diffs, list):
        real = sum(1 for d in diffs if not (isinstance(d, dict) and d.get("kind") == "noise"))
        noise = len(diffs) - real
        return f"{real}" + (f' <span class="meta">+ {noise} noise</span>' if noise else "")
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    return _num(history[0].get("differences")) if history else "—"


# -- sections ---------------------------------------------------------------------------------------
def _summary(flows: list[dict[str, Any]]) -> list[str]:
    out = [
        '<section class="summary">',
        "<h2>Workflows</h2>",
        '<table class="summary">',
        '<thead><tr><th>Workflow</th><th>Stage</th><th>Latest verdict</th><th class="num">In a row</th>'
        '<th class="num">Airflow</th><th class="num">Prefect</th><th class="num">Shadow wall</th>'
        '<th class="num">Differences</th><th>Runs</th></tr></thead>',
        "<tbody>",
    ]
    for number, workflow in enumerate(flows, start=1):
        verdict, in_a_row = view.streak(workflow)
        airflow, prefect = view.latest_side(workflow, "airflow"), view.latest_side(workflow, "prefect")
        name = esc(workflow.get("workflow")) or "(unnamed)"
        out.append(
            f'<tr class="workflow-row" data-verdict="{esc(verdict)}">'
            f'<td><a href="#wf-{number}">{name}</a></td><td>{_code(workflow.get("stage"))}</td>'
            f'<td>{badge(verdict)}</td><td class="num">{in_a_row}</td>'
            f'<td class="num">{view.duration(airflow.get("duration_s"))}</td>'
            f'<td class="num">{view.duration(prefect.get("duration_s"))}</td>'
            f'<td class="num">{view.duration(view.wall_time(workflow))}</td>'
            f'<td class="num">{_differences_count(workflow)}</td>'
            f"<td>{_run_links(airflow.get('url'), prefect.get('url'))}</td></tr>"
        )
    return [*out, "</tbody>", "</table>", "</section>"]


def _run_links(airflow_url: Any, prefect_url: Any) -> str:
    links = [link(label, url) for label, url in (("Airflow", airflow_url), ("Prefect", prefect_url)) if url]
    return " · ".join(links)


def _workflow(number: int, workflow: dict[str, Any]) -> list[str]:
    verdict, in_a_row = view.streak(workflow)
    name = esc(workflow.get("workflow")) or "(unnamed workflow)"
    streak = f"{badge(verdict)} × {in_a_row} in a row" if verdict is not None else "no runs yet"
    out = [
        f'<section class="workflow" id="wf-{number}" data-workflow="{esc(workflow.get("workflow"))}">',
        f'<h2><span class="name">{name}</span>{badge(verdict)}</h2>',
        f'<p class="meta">Stage {_code(workflow.get("stage")) or "unknown"} · verdict streak: {streak}</p>',
    ]
    latest = view.as_dict(workflow.get("latest"))
    if latest:
        out += _latest(workflow, latest)
    else:
        out.append('<p class="empty">No shadow run yet.</p>')
    noise = [p for p in view.as_list(workflow.get("noise_paths")) if p is not None]
    if noise:
        out.append(
            '<p class="noise meta">Calibrated noise (shown as <span class="kind">noise</span>, '
            "not as a mismatch): " + ", ".join(_code(p) for p in noise) + "</p>"
        )
    out += _history(workflow)
    return [*out, "</section>"]


def _latest(workflow: dict[str, Any], latest: dict[str, Any]) -> list[str]:
    airflow, prefect = view.latest_side(workflow, "airflow"), view.latest_side(workflow, "prefect")
    wall = view.wall_time(workflow)
    times = [
        t
        for t in (
            view.number(airflow.get("duration_s")),
            view.number(prefect.get("duration_s")),
            view.number(wall),
        )
        if t is not None
    ]
    longest = max(times, default=0.0)

    def bar(side: str, seconds: Any) -> str:
        value = view.number(seconds)
        if value is None or longest <= 0:
            return ""
        return f'<div class="bar {side}" style="width: {max(value / longest * 100, 1):.1f}%"></div>'

    overhead = view.wall_overhead(workflow)
    overhead = f' <span class="meta">({overhead})</span>' if overhead else ""
    airflow_link = link(airflow.get("run") or "Airflow run", airflow.get("url"))
    prefect_link = link(prefect.get("run") or "Prefect flow run", prefect.get("url"))
    at = view.text(latest.get("at"))
    out = [
        f"<h3>Latest run {_code(latest.get('correlation_id'))}{' at ' + _code(at) if at else ''}</h3>",
        '<table class="sides">',
        '<thead><tr><th></th><th class="side">Airflow (primary)</th><th class="side">Prefect (shadow)</th>'
        "</tr></thead>",
        "<tbody>",
        f"<tr><th>State</th><td>{_code(airflow.get('state'))}</td><td>{_code(prefect.get('state'))}</td></tr>",
        f'<tr><th>Duration</th><td class="side">{view.duration(airflow.get("duration_s"))}'
        f"{bar('airflow', airflow.get('duration_s'))}</td>"
        f'<td class="side">{view.duration(prefect.get("duration_s"))}{bar("prefect", prefect.get("duration_s"))}'
        "</td></tr>",
        f'<tr><th>Shadow wall time</th><td colspan="2">{view.duration(wall)}{overhead}{bar("wall", wall)}</td></tr>',
        f'<tr><th>Run</th><td class="run-link airflow">{airflow_link}</td>'
        f'<td class="run-link prefect">{prefect_link}</td></tr>',
    ]
    if airflow.get("error") or prefect.get("error"):
        out.append(
            f'<tr><th>Error</th><td class="error">{_code(airflow.get("error"))}</td>'
            f'<td class="error">{_code(prefect.get("error"))}</td></tr>'
        )
    out += ["</tbody>", "</table>"]
    return out + _differences(latest) + _tables(latest)


def _differences(latest: dict[str, Any]) -> list[str]:
    diffs = [d for d in view.as_list(latest.get("differences")) if isinstance(d, dict)]
    if not diffs:
        return ["<h3>Differences</h3>", '<p class="empty no-differences">No differences.</p>']
    real = sum(1 for d in diffs if d.get("kind") != "noise")
    out = [
        f'<h3>Differences <span class="meta">({real} real, {len(diffs) - real} noise)</span></h3>',
        '<table class="diffs">',
        "<thead><tr><th>Path</th><th>Airflow</th><th>Prefect</th><th>Kind</th><th>Note</th></tr></thead>",
        "<tbody>",
    ]
    for diff in diffs:
        kind = diff.get("kind")
        css = kind if kind in view.KINDS else "unknown"
        out.append(
            f'<tr class="diff-row kind-{css}" data-kind="{esc(kind)}">'
            f'<td class="path">{_code(diff.get("path"))}</td>'
            f"{_value_cell(diff.get('airflow'), absent=kind == 'only_prefect')}"
            f"{_value_cell(diff.get('prefect'), absent=kind == 'only_airflow')}"
            f'<td><span class="kind">{esc(kind) or "?"}</span></td><td class="note">{esc(diff.get("note"))}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]


def _value_cell(value: Any, absent: bool) -> str:
    if absent:
        return '<td class="value absent">absent</td>'
    return f'<td class="value"><code>{html.escape(view.value_text(value), quote=True)}</code></td>'


def _tables(latest: dict[str, Any]) -> list[str]:
    tables = [t for t in view.as_list(latest.get("tables")) if isinstance(t, dict)]
    if not tables:
        return []
    out = [
        "<h3>Tables</h3>",
        '<table class="tables">',
        '<thead><tr><th>Table</th><th>Key</th><th class="num">Airflow rows</th><th class="num">Prefect rows</th>'
        '<th class="num">Only in Airflow</th><th class="num">Only in Prefect</th><th class="num">Changed</th>'
        "<th>Status</th></tr></thead>",
        "<tbody>",
    ]
    for t in tables:
        if t.get("error"):
            state, status = "error", f"error: {esc(t.get('error'))}"
        else:
            state = "equal" if view.table_equal(t) else "differs"
            status = state
        key = ", ".join(view.text(k) for k in view.as_list(t.get("key")))
        out.append(
            f'<tr class="table-row table-{state}" data-table="{esc(t.get("table"))}">'
            f"<td>{_code(t.get('table'))}</td><td>{_code(key)}</td>"
            + "".join(
                f'<td class="num">{_num(t.get(f))}</td>'
                for f in (
                    "airflow_rows",
                    "prefect_rows",
                    "only_airflow_count",
                    "only_prefect_count",
                    "changed_count",
                )
            )
            + f'<td class="status">{status}</td></tr>'
        )
    out += ["</tbody>", "</table>"]
    for t in tables:
        out += _table_samples(t)
    return out


def _table_samples(t: dict[str, Any]) -> list[str]:
    rows: list[tuple[str, str, Any, list[Any]]] = [
        ("only_airflow", "Only in Airflow", key, []) for key in view.as_list(t.get("only_airflow"))
    ]
    rows += [("only_prefect", "Only in Prefect", key, []) for key in view.as_list(t.get("only_prefect"))]
    rows += [
        ("row_changed", "Changed", c.get("key"), view.as_list(c.get("columns")))
        for c in view.as_list(t.get("changed"))
        if isinstance(c, dict)
    ]
    if not rows:
        return []
    out = [
        f'<p>Sample rows of {_code(t.get("table"))} <span class="meta">(key: '
        f"{esc(', '.join(view.text(k) for k in view.as_list(t.get('key'))))})</span></p>",
        '<table class="table-keys">',
        "<thead><tr><th>Rows</th><th>Key</th><th>Columns that differ</th></tr></thead>",
        "<tbody>",
    ]
    for kind, label, key, columns in rows:
        out.append(
            f'<tr class="key-row kind-{kind}" data-kind="{kind}"><td class="kind">{label}</td>'
            f"<td>{_code(view.value_text(key))}</td><td>{', '.join(_code(c) for c in columns)}</td></tr>"
        )
    return [*out, "</tbody>", "</table>"]


def _history(workflow: dict[str, Any]) -> list[str]:
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    if not history:
        return []
    out = [
        '<h3>History <span class="meta">(newest first)</span></h3>',
        '<table class="history">',
        '<thead><tr><th>At</th><th>Verdict</th><th class="num">Airflow</th><th class="num">Prefect</th>'
        '<th class="num">Shadow wall</th><th class="num">Differences</th><th>Runs</th><th>Correlation id</th>'
        "</tr></thead>",
        "<tbody>",
    ]
    for h in history:
        out.append(
            f'<tr class="history-row" data-verdict="{esc(h.get("verdict"))}"><td class="at">{_code(h.get("at"))}</td>'
            f"<td>{badge(h.get('verdict'))}</td>"
            f'<td class="num">{view.duration(h.get("airflow_duration_s"))}</td>'
            f'<td class="num">{view.duration(h.get("prefect_duration_s"))}</td>'
            f'<td class="num">{view.duration(h.get("shadow_wall_s"))}</td>'
            f'<td class="num">{_num(h.get("differences"))}</td>'
            f"<td>{_run_links(h.get('airflow_url'), h.get('prefect_url'))}</td>"
            f"<td>{_code(h.get('correlation_id'))}</td></tr>"
        )
    return [*out, "</tbody>", "</table>"]
