"""The report as Markdown (GitHub-flavoured tables), for a terminal, a pull request or a wiki.

Values from the data go into code spans, where Markdown and HTML mean nothing; inside a table cell a
pipe is escaped as ``\\|`` and a line break becomes ``↵``, so a hostile value cannot split a row or open
a tag. Only http(s) URLs become links; anything else is shown as code.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from bridge.report import view

__all__ = ["render_markdown"]

_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]")
_BACKTICKS = re.compile(r"`+")
_NO_DIFF_TEXT = "No differences."


def render_markdown(report: Any) -> str:
    data = view.as_dict(report)
    flows = view.workflows(data)
    out = ["# Shadow report", ""]
    generated = view.text(data.get("generated_at"))
    when = code(generated, cell=False) if generated else "at an unknown time"
    out += [f"Generated {when} · {len(flows)} workflow(s).", ""]
    if not flows:
        return "\n".join([*out, "No workflow has a shadow run yet.", ""])
    out += _summary(flows)
    for workflow in flows:
        out += _workflow(workflow)
    return "\n".join(out).rstrip("\n") + "\n"


# -- cells ------------------------------------------------------------------------------------------
def one_line(value: str) -> str:
    return _NEWLINES.sub("↵", value)


def code(value: Any, cell: bool = True) -> str:
    """A data value as one inline code span ('' stays empty). In a table ``cell`` a pipe is escaped;
    GitHub-flavoured Markdown unescapes it inside code spans there, and only there."""
    shown = one_line(view.text(value))
    if not shown:
        return ""
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(shown)), default=0) + 1)
    edges = shown[0] + shown[-1]
    pad = " " if "`" in edges or (edges == "  " and shown.strip()) else ""
    body = shown.replace("|", "\\|") if cell else shown
    return f"{fence}{pad}{body}{pad}{fence}"


def count(value: Any) -> str:
    """A number as itself, anything else as code."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else code(value)


def link(label: str, url: Any) -> str:
    """``label`` is Markdown already (our words, or data through ``code``); a URL that is not plain
    http(s) is shown as code, never linked."""
    safe = view.safe_url(url)
    if safe is None:
        return code(url)
    target = quote(safe, safe=":/?#[]@!$&'*+,;=%~-._")
    return f"[{label or code(safe)}]({target})"


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows), ""]


def verdict_label(verdict: Any) -> str:
    if verdict is None:
        return "no runs"
    return f"**{verdict}**" if verdict in view.VERDICTS else code(verdict)


def verdict_cell(entry: dict[str, Any]) -> str:
    """The verdict in bold with what its line counts: **mismatch** (`2 values, 3 ignored`)."""
    counts = view.tally_text(entry)
    return verdict_label(entry.get("verdict")) + (f" ({code(counts)})" if counts else "")


# -- sections ---------------------------------------------------------------------------------------
def _summary(flows: list[dict[str, Any]]) -> list[str]:
    rows = []
    for workflow in flows:
        verdict, in_a_row = view.streak(workflow)
        airflow, prefect = view.latest_side(workflow, "airflow"), view.latest_side(workflow, "prefect")
        latest = view.as_dict(workflow.get("latest")) or {"verdict": verdict}
        rows.append(
            [
                code(workflow.get("workflow")),
                code(workflow.get("stage")),
                verdict_cell(latest) if verdict is not None else verdict_label(None),
                str(in_a_row),
                view.both_times(airflow.get("elapsed_s"), airflow.get("duration_s")),
                view.both_times(prefect.get("elapsed_s"), prefect.get("duration_s")),
                view.duration(view.wall_time(workflow)),
            ]
        )
    return [
        "## Summary",
        "",
        *table(
            [
                "Workflow",
                "Stage",
                "Latest verdict",
                "In a row",
                "Airflow waited · ran",
                "Prefect waited · ran",
                "Shadow wall",
            ],
            rows,
        ),
    ]


def _workflow(workflow: dict[str, Any]) -> list[str]:
    name = one_line(view.text(workflow.get("workflow"))) or "(unnamed workflow)"
    verdict, in_a_row = view.streak(workflow)
    out = [f"## {code(name, cell=False)}", ""]
    streak = f"{verdict_label(verdict)} × {in_a_row}" if verdict is not None else "no runs yet"
    stage = code(workflow.get("stage"), cell=False) or "unknown"
    deployment = code(workflow.get("deployment"), cell=False)
    deployment = f" · Prefect deployment {deployment}" if deployment else ""
    out += [f"Stage {stage}{deployment} · verdict streak: {streak}", ""]
    latest = view.as_dict(workflow.get("latest"))
    if latest:
        out += _latest(workflow, latest)
    noise = [view.noise_text(p) for p in view.as_list(workflow.get("noise_paths")) if p is not None]
    if noise and not view.calibrations(workflow):  # else the newest calibration shows them
        out += [
            "Calibrated noise (a difference here within the spread seen is listed as `noise`, not counted): "
            + ", ".join(code(p, cell=False) for p in noise),
            "",
        ]
    out += _calibrations(workflow)
    out += _history(workflow)
    return out


def _latest(workflow: dict[str, Any], latest: dict[str, Any]) -> list[str]:
    airflow, prefect = view.latest_side(workflow, "airflow"), view.latest_side(workflow, "prefect")
    head = f"### Latest run {code(latest.get('correlation_id'), cell=False)}".rstrip()
    at = view.text(latest.get("at"))
    out = [head + (f" at {code(at, cell=False)}" if at else ""), ""]
    out += [f"Verdict: {verdict_cell(latest)}", ""]
    out += [f"Origin: {code(latest.get('origin'), cell=False)}", ""] if latest.get("origin") else []
    out += table(
        ["", "Airflow", "Prefect"],
        [
            ["State", code(airflow.get("state")), code(prefect.get("state"))],
            [
                "Waited (trigger → end)",
                view.duration(airflow.get("elapsed_s")),
                view.duration(prefect.get("elapsed_s")),
            ],
            [
                "Ran (start → end)",
                view.duration(airflow.get("duration_s")),
                view.duration(prefect.get("duration_s")),
            ],
            [
                "Run",
                link(code(airflow.get("run")) or "Airflow run", airflow.get("url")),
                link(code(prefect.get("run")) or "Prefect flow run", prefect.get("url")),
            ],
            ["Error", code(airflow.get("error")), code(prefect.get("error"))],
        ],
    )
    overhead = view.wall_overhead(workflow)
    out += [
        f"Shadow wall time (both sides in parallel): {view.duration(view.wall_time(workflow))}"
        + (f" ({overhead})" if overhead else ""),
        "",
    ]
    real, aside = view.split_differences(latest)
    out += _differences(real)
    out += _tables(latest)
    out += _set_aside(aside)
    return out


def _values(diff: dict[str, Any]) -> list[str]:
    kind = diff.get("kind")
    airflow = "*absent*" if kind == "only_prefect" else code(view.value_text(diff.get("airflow")))
    prefect = "*absent*" if kind == "only_airflow" else code(view.value_text(diff.get("prefect")))
    return [code(diff.get("path")), airflow, prefect, code(kind)]


def _differences(diffs: list[dict[str, Any]]) -> list[str]:
    if not diffs:
        return ["#### Differences", "", _NO_DIFF_TEXT, ""]
    rows = [[*_values(d), code(d.get("note"))] for d in diffs]
    return [
        f"#### Differences ({len(diffs)})",
        "",
        *table(["Path", "Airflow", "Prefect", "Kind", "Note"], rows),
    ]


def _set_aside(diffs: list[dict[str, Any]]) -> list[str]:
    if not diffs:
        return []
    ignored = sum(1 for d in diffs if d.get("kind") == "ignored")
    rows = [[*_values(d), code(view.aside_note(d))] for d in diffs]
    return [
        f"#### Set aside ({ignored} ignored, {len(diffs) - ignored} noise: listed, not counted)",
        "",
        *table(["Path", "Airflow", "Prefect", "Kind", "Why not counted"], rows),
    ]


def _keys(keys: list[Any]) -> str:
    return ", ".join(code(view.value_text(k)) for k in keys) or "—"


def _tables(latest: dict[str, Any]) -> list[str]:
    tables = [t for t in view.as_list(latest.get("tables")) if isinstance(t, dict)]
    if not tables:
        return []
    rows = []
    for t in tables:
        state, words = view.table_status(t)
        status = "**" + words + "**" if state in ("differs", "one_side") else words
        if state in ("error", "excluded"):
            status = code(words)
        counted = state != "excluded"
        rows.append(
            [
                code(t.get("table")),
                code(", ".join(view.text(k) for k in view.as_list(t.get("key")))),
                code(t.get("scope")) if counted else "—",
                *(
                    count(t.get(f)) if counted else "—"
                    for f in (
                        "airflow_rows",
                        "prefect_rows",
                        "only_airflow_count",
                        "only_prefect_count",
                        "changed_count",
                    )
                ),
                status,
            ]
        )
    out = [
        "#### Tables",
        "",
        *table(
            [
                "Table",
                "Key",
                "Scope",
                "Airflow rows",
                "Prefect rows",
                "Only in Airflow",
                "Only in Prefect",
                "Changed",
                "Status",
            ],
            rows,
        ),
    ]
    for t in tables:
        only_a, only_p = view.as_list(t.get("only_airflow")), view.as_list(t.get("only_prefect"))
        changed = [c for c in view.as_list(t.get("changed")) if isinstance(c, dict)]
        by_column = [c for c in view.as_list(t.get("by_column")) if isinstance(c, dict)]
        if by_column:  # too many rows differ to list by key: per column, from a sample
            bound = "at most " if t.get("changed_count_bound") else ""
            out += [
                f"Columns that differ in {code(t.get('table'), cell=False)} ({bound}{count(t.get('changed_count'))}"
                " changed rows, counted by bucket; per column over a sample):",
                "",
                *table(
                    ["Column", "Sampled rows that differ", "Sample keys"],
                    [
                        [
                            code(c.get("column")),
                            f"{count(c.get('rows'))} of {count(c.get('sampled'))}",
                            _keys(view.as_list(c.get("keys"))),
                        ]
                        for c in by_column
                    ],
                ),
            ]
        if not (only_a or only_p or changed):
            continue
        out += [f"Sample rows of {code(t.get('table'), cell=False)} (keys as JSON):", ""]
        detail = [["Only in Airflow", _keys(only_a), ""], ["Only in Prefect", _keys(only_p), ""]]
        detail += [
            [
                "Changed",
                code(view.value_text(c.get("key"))),
                ", ".join(code(col) for col in view.as_list(c.get("columns"))),
            ]
            for c in changed
        ]
        out += table(["Rows", "Key", "Columns that differ"], [d for d in detail if d[1] != "—"])
    return out


def _calibrations(workflow: dict[str, Any]) -> list[str]:
    found = view.calibrations(workflow)
    if found is None:
        return []
    if not found:
        return ["Never calibrated: no difference is taken for noise.", ""]
    rows = [
        [
            code(c.get("at")),
            count(c.get("runs")),
            ", ".join(code(t) for t in view.as_list(c.get("controls"))) or "—",
            ", ".join(code(view.noise_text(n)) for n in view.as_list(c.get("noise"))) or "none",
        ]
        for c in found
    ]
    return [
        "### Calibrations (newest first)",
        "",
        *table(["At", "Runs", "Controls", "Noise paths (spread seen)"], rows),
    ]


def _run_links(entry: dict[str, Any]) -> str:
    links = [
        link(label, entry.get(f"{side}_url"))
        for side, label in (("airflow", "Airflow"), ("prefect", "Prefect"))
        if entry.get(f"{side}_url")
    ]
    return " · ".join(links)


def _history(workflow: dict[str, Any]) -> list[str]:
    history = [h for h in view.as_list(workflow.get("history")) if isinstance(h, dict)]
    if not history:
        return []
    rows = [
        [
            code(h.get("at")),
            verdict_cell(h),
            code(h.get("origin")),
            view.both_times(h.get("airflow_elapsed_s"), h.get("airflow_duration_s")),
            view.both_times(h.get("prefect_elapsed_s"), h.get("prefect_duration_s")),
            view.duration(h.get("shadow_wall_s")),
            _run_links(h),
            code(h.get("correlation_id")),
        ]
        for h in history
    ]
    return [
        "### History (newest first)",
        "",
        *table(
            [
                "At",
                "Verdict",
                "Origin",
                "Airflow waited · ran",
                "Prefect waited · ran",
                "Shadow wall",
                "Runs",
                "Correlation id",
            ],
            rows,
        ),
    ]
