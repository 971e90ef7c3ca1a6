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
from bridge.report.style import CSP as _CSP
from bridge.report.style import CSS as _CSS

__all__ = ["render_html"]


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
        "<footer>Airflow is authoritative; Prefect runs the same work on a shadow target. Noise is "
        "measured by calibration (the primary against itself, on equal inputs) and counts as noise only "
        "within the spread seen; ignored and noise rows are listed, never counted.</footer>"
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


def verdict_html(entry: dict[str, Any]) -> str:
    """A comparison's verdict line: the verdict's badge, then what it counts."""
    counts = view.tally_text(entry)
    return badge(entry.get("verdict")) + (f' <span class="counts">({esc(counts)})</span>' if counts else "")


def _latest_entry(workflow: dict[str, Any]) -> dict[str, Any]:
    latest = view.as_dict(workflow.get("latest"))
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    return latest or (history[0] if history else {})


# -- sections ---------------------------------------------------------------------------------------
def _summary(flows: list[dict[str, Any]]) -> list[str]:
    out = [
        '<section class="summary">',
        "<h2>Workflows</h2>",
        '<table class="summary">',
        '<thead><tr><th>Workflow</th><th>Stage</th><th>Latest verdict</th><th class="num">In a row</th>'
        '<th class="num">Airflow</th><th class="num">Prefect</th><th class="num">Shadow wall</th>'
        "<th>Counted / set aside</th><th>Runs</th></tr></thead>",
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
            f'<td class="counts">{esc(view.tally_text(_latest_entry(workflow)))}</td>'
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
    deployment = _code(workflow.get("deployment"))
    deployment = f" · Prefect deployment {deployment}" if deployment else ""
    out = [
        f'<section class="workflow" id="wf-{number}" data-workflow="{esc(workflow.get("workflow"))}">',
        f'<h2><span class="name">{name}</span>{badge(verdict)}</h2>',
        f'<p class="meta">Stage {_code(workflow.get("stage")) or "unknown"}{deployment} · '
        f"verdict streak: {streak}</p>",
    ]
    latest = view.as_dict(workflow.get("latest"))
    if latest:
        out += _latest(workflow, latest)
    else:
        out.append('<p class="empty">No shadow run yet.</p>')
    noise = [view.noise_text(p) for p in view.as_list(workflow.get("noise_paths")) if p is not None]
    if noise and not view.calibrations(workflow):  # else the newest calibration shows them
        out.append(
            '<p class="noise meta">Calibrated noise (within the spread seen, listed as '
            '<span class="kind">noise</span>, not counted): ' + ", ".join(_code(p) for p in noise) + "</p>"
        )
    out += _calibrations(workflow)
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
        f'<p class="verdict-line">Verdict: {verdict_html(latest)}'
        f"{' · origin ' + _code(latest.get('origin')) if latest.get('origin') else ''}</p>",
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
    real, aside = view.split_differences(latest)
    return out + _differences(real) + _tables(latest) + _set_aside(aside)


def _diff_rows(diffs: list[dict[str, Any]], note: Any) -> list[str]:
    out = []
    for diff in diffs:
        kind = diff.get("kind")
        css = kind if kind in view.KINDS else "unknown"
        out.append(
            f'<tr class="diff-row kind-{css}" data-kind="{esc(kind)}">'
            f'<td class="path">{_code(diff.get("path"))}</td>'
            f"{_value_cell(diff.get('airflow'), absent=kind == 'only_prefect')}"
            f"{_value_cell(diff.get('prefect'), absent=kind == 'only_airflow')}"
            f'<td><span class="kind">{esc(kind) or "?"}</span></td><td class="note">{esc(note(diff))}</td></tr>'
        )
    return out


def _differences(diffs: list[dict[str, Any]]) -> list[str]:
    if not diffs:
        return ["<h3>Differences</h3>", '<p class="empty no-differences">No differences.</p>']
    return [
        f'<h3>Differences <span class="meta">({len(diffs)})</span></h3>',
        '<table class="diffs">',
        "<thead><tr><th>Path</th><th>Airflow</th><th>Prefect</th><th>Kind</th><th>Note</th></tr></thead>",
        "<tbody>",
        *_diff_rows(diffs, lambda d: d.get("note")),
        "</tbody>",
        "</table>",
    ]


def _set_aside(diffs: list[dict[str, Any]]) -> list[str]:
    if not diffs:
        return []
    ignored = sum(1 for d in diffs if d.get("kind") == "ignored")
    return [
        f'<h3>Set aside <span class="meta">({ignored} ignored, {len(diffs) - ignored} noise: listed, '
        "not counted)</span></h3>",
        '<table class="diffs set-aside">',
        "<thead><tr><th>Path</th><th>Airflow</th><th>Prefect</th><th>Kind</th><th>Why not counted</th>"
        "</tr></thead>",
        "<tbody>",
        *_diff_rows(diffs, view.aside_note),
        "</tbody>",
        "</table>",
    ]


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
        '<thead><tr><th>Table</th><th>Key</th><th>Scope</th><th class="num">Airflow rows</th>'
        '<th class="num">Prefect rows</th><th class="num">Only in Airflow</th><th class="num">Only in Prefect</th>'
        '<th class="num">Changed</th><th>Status</th></tr></thead>',
        "<tbody>",
    ]
    for t in tables:
        state, status = view.table_status(t)
        counted = state != "excluded"
        key = ", ".join(view.text(k) for k in view.as_list(t.get("key")))
        out.append(
            f'<tr class="table-row table-{state}" data-table="{esc(t.get("table"))}" data-state="{state}">'
            f'<td class="name">{_code(t.get("table"))}</td><td class="key">{_code(key)}</td>'
            f'<td class="scope">{_code(t.get("scope")) if counted else "—"}</td>'
            + "".join(
                f'<td class="num">{_num(t.get(f)) if counted else "—"}</td>'
                for f in (
                    "airflow_rows",
                    "prefect_rows",
                    "only_airflow_count",
                    "only_prefect_count",
                    "changed_count",
                )
            )
            + f'<td class="status">{esc(status)}</td></tr>'
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
        f"{esc(', '.join(view.text(k) for k in view.as_list(t.get('key'))))}; keys as JSON)</span></p>",
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


_NONE = '<span class="empty">none</span>'


def _calibrations(workflow: dict[str, Any]) -> list[str]:
    found = view.calibrations(workflow)
    if found is None:
        return []
    if not found:
        return ['<p class="calibrations empty">Never calibrated: no difference is taken for noise.</p>']
    out = ['<h3>Calibrations <span class="meta">(newest first; the newest one is in force)</span></h3>']
    out.append('<ul class="calibrations">')
    for c in found:
        noise = ", ".join(_code(view.noise_text(n)) for n in view.as_list(c.get("noise")))
        controls = ", ".join(_code(t) for t in view.as_list(c.get("controls")))
        out.append(
            f'<li class="calibration">{_code(c.get("at"))}: {_num(c.get("runs"))} control runs'
            f"{f' into {controls}' if controls else ''} on equal inputs; noise: "
            f"{noise or _NONE}</li>"
        )
    return [*out, "</ul>"]


def _history(workflow: dict[str, Any]) -> list[str]:
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    if not history:
        return []
    out = [
        '<h3>History <span class="meta">(newest first)</span></h3>',
        '<table class="history">',
        '<thead><tr><th>At</th><th>Verdict</th><th>Origin</th><th class="num">Airflow</th><th class="num">Prefect</th>'
        '<th class="num">Shadow wall</th><th class="runs">Runs</th><th class="runs">Correlation id</th></tr></thead>',
        "<tbody>",
    ]
    for h in history:
        out.append(
            f'<tr class="history-row" data-verdict="{esc(h.get("verdict"))}"><td class="at">{_code(h.get("at"))}</td>'
            f'<td>{verdict_html(h)}</td><td class="origin">{_code(h.get("origin"))}</td>'
            f'<td class="num">{view.duration(h.get("airflow_duration_s"))}</td>'
            f'<td class="num">{view.duration(h.get("prefect_duration_s"))}</td>'
            f'<td class="num">{view.duration(h.get("shadow_wall_s"))}</td>'
            f'<td class="runs">{_run_links(h.get("airflow_url"), h.get("prefect_url"))}</td>'
            f'<td class="ids">{_code(h.get("correlation_id"))}</td></tr>'
        )
    return [*out, "</tbody>", "</table>"]
