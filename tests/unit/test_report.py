"""The report renderers: every format shows the fields; the HTML escapes every value, links only http(s)
URLs and loads nothing from anywhere; Markdown cells cannot be split by the data; odd input never raises."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

import bridge.report
from bridge.errors import UsageError
from bridge.report import markdown, render, view

SCRIPT = "<script>alert(1)</script>"
ATTR = '" onmouseover=alert(1) x="'
AIRFLOW_URL = "http://127.0.0.1:8080/dags/update_prices_daily/runs/shadow__c2"
PREFECT_URL = "http://127.0.0.1:4200/runs/flow-run/0b4e7c1a-5d2f-4f3e-9a51-1c2d3e4f5a6b"
OLD_AIRFLOW_URL = "http://127.0.0.1:8080/dags/update_prices_daily/runs/shadow__c1"
OLD_PREFECT_URL = "https://prefect.example.org/runs/flow-run/1111"
DATA_URLS = {AIRFLOW_URL, PREFECT_URL, OLD_AIRFLOW_URL, OLD_PREFECT_URL}


def make_report() -> dict[str, Any]:
    return {
        "generated_at": "2026-11-26T21:00:00+00:00",
        "workflows": [
            {
                "workflow": "update_prices_daily",
                "stage": "shadow",
                "streak": {"verdict": "mismatch", "count": 3},
                "noise_paths": ["result.duration"],
                "history": [
                    {
                        "correlation_id": "c2",
                        "verdict": "mismatch",
                        "at": "2026-11-26T20:59:00+00:00",
                        "airflow_duration_s": 3.2,
                        "prefect_duration_s": 8.1,
                        "shadow_wall_s": 9.0,
                        "differences": 3,
                        "airflow_url": AIRFLOW_URL,
                        "prefect_url": PREFECT_URL,
                    },
                    {
                        "correlation_id": "c1",
                        "verdict": "match",
                        "at": "2026-11-25T20:59:00+00:00",
                        "airflow_duration_s": 3.4,
                        "prefect_duration_s": 7.6,
                        "shadow_wall_s": 8.4,
                        "differences": 0,
                        "airflow_url": OLD_AIRFLOW_URL,
                        "prefect_url": OLD_PREFECT_URL,
                    },
                ],
                "latest": {
                    "correlation_id": "c2",
                    "verdict": "mismatch",
                    "at": "2026-11-26T20:59:00+00:00",
                    "airflow": {
                        "state": "success",
                        "duration_s": 3.2,
                        "url": AIRFLOW_URL,
                        "run": "airflow:update_prices_daily/shadow__c2",
                        "error": None,
                    },
                    "prefect": {
                        "state": "completed",
                        "duration_s": 8.1,
                        "url": PREFECT_URL,
                        "run": "prefect:0b4e7c1a",
                        "error": None,
                    },
                    "shadow_wall_s": 9.0,
                    "differences": [
                        {
                            "path": "result.checksum",
                            "airflow": "ab12",
                            "prefect": "cd34",
                            "kind": "changed",
                            "note": "",
                        },
                        {
                            "path": "result.rows",
                            "airflow": 261,
                            "prefect": "261",
                            "kind": "type_changed",
                            "note": "",
                        },
                        {
                            "path": "result.extra",
                            "airflow": None,
                            "prefect": [1, 2],
                            "kind": "only_prefect",
                            "note": "",
                        },
                        {
                            "path": "result.duration",
                            "airflow": 1.5,
                            "prefect": 4.5,
                            "kind": "noise",
                            "note": "varies between two Airflow runs",
                        },
                    ],
                    "tables": [
                        {
                            "table": "price_history",
                            "key": ["product_id", "business_date"],
                            "airflow_rows": 261,
                            "prefect_rows": 260,
                            "only_airflow": [[12, "2024-12-31"]],
                            "only_prefect": [],
                            "changed": [{"key": [7, "2024-12-31"], "columns": ["price"]}],
                            "only_airflow_count": 1,
                            "only_prefect_count": 0,
                            "changed_count": 1,
                            "equal": False,
                            "error": None,
                        },
                    ],
                },
            },
            {
                "workflow": "daily_summary",
                "stage": "shadow",
                "streak": {"verdict": "match", "count": 5},
                "noise_paths": [],
                "history": [],
                "latest": {
                    "correlation_id": "c9",
                    "verdict": "match",
                    "at": "2026-11-26T20:00:00+00:00",
                    "airflow": {"state": "success", "duration_s": 2.0, "url": None},
                    "prefect": {"state": "completed", "duration_s": 9.5, "url": None},
                    "shadow_wall_s": 10.1,
                    "differences": [],
                    "tables": [],
                },
            },
        ],
    }


def hostile_report() -> dict[str, Any]:
    """The same report with hostile strings in every place a string can go."""
    report = make_report()
    flow = report["workflows"][0]
    latest = flow["latest"]
    flow["workflow"] = f"prices{ATTR}{SCRIPT}"
    flow["stage"] = SCRIPT
    flow["noise_paths"] = [SCRIPT]
    latest["correlation_id"] = ATTR + SCRIPT
    latest["airflow"]["error"] = f"Traceback\n{SCRIPT}"
    latest["airflow"]["run"] = SCRIPT
    latest["prefect"]["run"] = ATTR
    latest["differences"].append(
        {"path": f"result.{SCRIPT}", "airflow": SCRIPT, "prefect": ATTR, "kind": "changed", "note": ATTR}
    )
    latest["differences"].append(
        {"path": "result.odd", "airflow": 1, "prefect": 2, "kind": ATTR + SCRIPT, "note": ""}
    )
    latest["tables"][0]["table"] = ATTR + SCRIPT
    latest["tables"][0]["changed"][0]["columns"] = [SCRIPT]
    latest["tables"][0]["only_prefect"] = [[SCRIPT, ATTR]]
    flow["history"][1]["verdict"] = ATTR + SCRIPT
    return report


class Page(HTMLParser):
    """The elements of an HTML page: (tag, attributes), and the text of each <tr class="diff-row">."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[dict[str, Any]] = []
        self._row: dict[str, Any] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "tr" and "diff-row" in (attributes.get("class") or "").split():
            self._row = {"attrs": attributes, "text": ""}
            self.rows.append(self._row)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row["text"] += data

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


# -- dispatch -----------------------------------------------------------------------------------------
def test_public_names_are_listed_and_exist() -> None:
    for name in bridge.report.__all__:
        assert hasattr(bridge.report, name), name
    assert {"render", "render_json", "render_markdown", "render_html", "FORMATS"} <= set(
        bridge.report.__all__
    )
    assert bridge.report.FORMATS == ("json", "md", "html")


def test_render_dispatches_and_refuses_unknown_formats() -> None:
    report = make_report()
    assert render(report, "json").startswith("{")
    assert render(report, "md").startswith("# Shadow report")
    assert render(report, "html").startswith("<!DOCTYPE html>")
    assert render(report, "markdown") == render(report, "md")
    with pytest.raises(UsageError, match="json, md, html") as info:
        render(report, "pdf")
    assert info.value.exit_code == 2


# -- JSON ---------------------------------------------------------------------------------------------
def test_json_is_stable_sorted_indented_and_complete() -> None:
    report = make_report()
    text = render(report, "json")
    assert json.loads(text) == report
    assert text == render(copy.deepcopy(report), "json")
    assert text.endswith("}\n") and '\n  "generated_at"' in text
    shuffled = {"workflows": report["workflows"], "generated_at": report["generated_at"]}
    assert render(shuffled, "json") == text


def test_json_makes_odd_values_plain() -> None:
    text = render({"b": float("nan"), "a": (1, 2), 3: {"x": float("inf")}, "s": {"z"}, "o": object()}, "json")
    data = json.loads(text)
    assert data["b"] is None and data["a"] == [1, 2] and data["3"] == {"x": None} and data["s"] == ["z"]
    assert data["o"].startswith("<object object")
    assert list(data) == sorted(data)


# -- Markdown -----------------------------------------------------------------------------------------
def test_markdown_shows_streak_durations_links_diffs_tables_and_noise() -> None:
    md = render(make_report(), "md")
    assert "## `update_prices_daily`" in md and "## `daily_summary`" in md
    assert "verdict streak: **mismatch** × 3" in md
    assert "verdict streak: **match** × 5" in md
    assert "| Duration | 3.2 s | 8.1 s |" in md
    assert "Shadow wall time (both sides in parallel): 9.0 s (slower side + 0.9 s)" in md
    assert f"[`airflow:update_prices_daily/shadow__c2`]({AIRFLOW_URL})" in md
    assert f"[`prefect:0b4e7c1a`]({PREFECT_URL})" in md
    assert "| Path | Airflow | Prefect | Kind | Note |" in md
    assert '| `result.checksum` | `"ab12"` | `"cd34"` | `changed` |  |' in md
    assert '| `result.rows` | `261` | `"261"` | `type_changed` |' in md
    assert "| `result.extra` | *absent* | `[1, 2]` | `only_prefect` |" in md
    assert "| `result.duration` | `1.5` | `4.5` | `noise` |" in md
    assert "Differences (3 real, 1 noise)" in md
    assert (
        "Calibrated noise (differences here are shown as `noise`, not as a mismatch): `result.duration`" in md
    )
    assert "| `price_history` | `product_id, business_date` | 261 | 260 | 1 | 0 | 1 | **differs** |" in md
    assert '| Only in Airflow | `[12, "2024-12-31"]` |  |' in md
    assert '| Changed | `[7, "2024-12-31"]` | `price` |' in md
    assert f"[Prefect]({OLD_PREFECT_URL})" in md
    assert "No differences." in md


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_cells_escape_pipes_and_newlines() -> None:
    report = make_report()
    latest = report["workflows"][0]["latest"]
    latest["differences"] = [
        {
            "path": "a|b\nc",
            "airflow": "x|y",
            "prefect": "line1\r\nline2|",
            "kind": "changed",
            "note": "one\ntwo|three`four",
        }
    ]
    latest["airflow"]["error"] = "boom | bang\nsecond line"
    md = render(report, "md")
    lines = md.splitlines()
    header = lines.index("| Path | Airflow | Prefect | Kind | Note |")
    diff_row = lines[header + 2]
    assert diff_row == (
        '| `a\\|b↵c` | `"x\\|y"` | `"line1\\r\\nline2\\|"` | `changed` | ``one↵two\\|three`four`` |'
    )
    assert _unescaped_pipes(diff_row) == _unescaped_pipes(lines[header]) == 6
    assert "| Error | `boom \\| bang↵second line` |  |" in md
    for line in lines:  # every table line has as many cells as its header
        if line.startswith("|"):
            assert line.endswith("|"), line


def test_markdown_code_spans_hold_backticks_and_html() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("") == "" and markdown.code(None) == ""
    assert markdown.code("a|b", cell=False) == "`a|b`"
    md = render(hostile_report(), "md")
    for line in md.splitlines():
        outside = re.sub(r"(`+).*?\1", "", line)  # drop the code spans: what is left is Markdown
        assert "<" not in outside, line


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<b>x</b>",
        "//evil.example/x",
        "http:evil",
        "ftp://example.org/x",
        "http://a b/",
    ],
)
def test_markdown_links_only_http_urls(url: str) -> None:
    report = make_report()
    report["workflows"][0]["latest"]["airflow"]["url"] = url
    report["workflows"][0]["history"][0]["airflow_url"] = url
    md = render(report, "md")
    assert "](javascript" not in md.lower() and "](data:" not in md and "](//" not in md and "](ftp" not in md
    assert view.safe_url(url) is None


# -- HTML ---------------------------------------------------------------------------------------------
def test_html_shows_summary_diffs_tables_and_links() -> None:
    doc = render(make_report(), "html")
    page = Page(doc)
    assert "<h1>Shadow report</h1>" in doc
    summary = doc[doc.index('<table class="summary">') : doc.index("</table>")]
    assert 'class="badge verdict-mismatch"' in summary and 'class="badge verdict-match"' in summary
    assert '<td class="num">3</td>' in summary and '<td class="num">5</td>' in summary
    for shown in ("3.2 s", "8.1 s", "9.0 s", "2.0 s", "9.5 s", "10.1 s"):
        assert shown in summary
    kinds = [row["attrs"]["data-kind"] for row in page.rows]
    assert kinds == ["changed", "type_changed", "only_prefect", "noise"]
    assert [row["attrs"]["class"] for row in page.rows] == [f"diff-row kind-{k}" for k in kinds]
    assert "result.checksum" in page.rows[0]["text"] and '"ab12"' in page.rows[0]["text"]
    assert "absent" in page.rows[2]["text"]
    assert "noise" in page.rows[3]["text"]
    hrefs = {a["href"] for a in page.tags("a")}
    assert hrefs >= DATA_URLS
    assert {h for h in hrefs if h and h.startswith("#")} == {"#wf-1", "#wf-2"}
    assert '<td class="run-link airflow"><a href="' + AIRFLOW_URL in doc
    assert '<td class="run-link prefect"><a href="' + PREFECT_URL in doc
    keys = [
        (a.get("data-kind"), a.get("class")) for a in page.tags("tr") if "key-row" in (a.get("class") or "")
    ]
    assert keys == [
        ("only_airflow", "key-row kind-only_airflow"),
        ("row_changed", "key-row kind-row_changed"),
    ]
    assert "[12, &quot;2024-12-31&quot;]" in doc and "<code>price</code>" in doc
    assert "(slower side + 0.9 s)" in doc
    assert "Calibrated noise" in doc and "<code>result.duration</code>" in doc
    assert 'data-table="price_history"' in doc and '<td class="status">differs</td>' in doc
    assert "No differences." in doc


def test_html_escapes_every_hostile_value() -> None:
    doc = render(hostile_report(), "html")
    assert "<script" not in doc.lower()
    assert ATTR not in doc and '" onmouseover=' not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert "&quot; onmouseover=alert(1) x=&quot;" in doc
    page = Page(doc)
    assert not page.tags("script")
    for tag, attrs in page.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    hostile_row = next(r for r in page.rows if SCRIPT in r["text"])
    assert hostile_row["attrs"]["data-kind"] == "changed"
    odd = next(r for r in page.rows if "result.odd" in r["text"])
    assert odd["attrs"]["class"] == "diff-row kind-unknown" and odd["attrs"]["data-kind"] == ATTR + SCRIPT
    sections = page.tags("section")
    assert any(s.get("data-workflow") == f"prices{ATTR}{SCRIPT}" for s in sections)
    assert {s.get("id") for s in sections if s.get("id")} == {"wf-1", "wf-2"}
    assert "badge verdict-unknown" in doc


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "//evil.example/x",
        "/relative/path",
        "http:no-host",
        'http://h/"onmouseover="alert(1)',
        "http://a b/",
    ],
)
def test_html_links_only_http_urls(url: str) -> None:
    report = make_report()
    report["workflows"][0]["latest"]["airflow"]["url"] = url
    report["workflows"][0]["history"][0]["airflow_url"] = url
    doc = render(report, "html")
    page = Page(doc)
    for a in page.tags("a"):
        href = a["href"] or ""
        assert href.startswith(("http://", "https://", "#wf-")), href
        assert set(a) == {"href", "rel"} or set(a) == {"href"}
    if view.safe_url(url):  # an http URL with a quote in it: linked, the quote escaped
        assert url == 'http://h/"onmouseover="alert(1)'
        assert 'href="http://h/&quot;onmouseover=&quot;alert(1)"' in doc
    else:
        assert url not in {a["href"] for a in page.tags("a")}
        assert 'class="mono url-text"' in doc


def test_html_loads_nothing_from_anywhere() -> None:
    doc = render(hostile_report(), "html")
    found = set(re.findall(r"https?://[^\s\"'<>]+", doc, flags=re.IGNORECASE))
    assert found == DATA_URLS, found - DATA_URLS
    page = Page(doc)
    for tag in (
        "script",
        "img",
        "link",
        "iframe",
        "object",
        "embed",
        "base",
        "form",
        "svg",
        "video",
        "audio",
    ):
        assert not page.tags(tag), tag
    assert not any("src" in attrs or "srcset" in attrs for _, attrs in page.elements)
    assert "@import" not in doc and "url(" not in doc
    csp = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    anchors = [a["href"] for a in page.tags("a")]
    assert set(anchors) <= DATA_URLS | {"#wf-1", "#wf-2"}


# -- odd input ----------------------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


ODD = [None, SCRIPT, 7, -1, True, 1e308 * 10, [], {}, [None, 3], {"x": {1, 2}}, "", "http://x/\n"]


@pytest.mark.parametrize("odd", ODD, ids=repr)
def test_any_field_missing_or_of_any_type_still_renders(odd: Any) -> None:
    base = make_report()
    for path in _paths(base):
        report = copy.deepcopy(base)
        holder = report
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = odd
        for fmt in ("json", "md", "html"):
            text = render(report, fmt)
            assert text.endswith("\n"), (path, fmt)
        doc = render(report, "html")
        assert "<script" not in doc.lower()
        del holder[path[-1]]
        render(report, "md"), render(report, "html")


@pytest.mark.parametrize(
    "report", [{}, {"workflows": None}, {"workflows": "x"}, [], None, {"workflows": [None, 1, {}]}]
)
def test_empty_or_broken_reports_render(report: Any) -> None:
    for fmt in ("json", "md", "html"):
        assert render(report, fmt)
    assert "No workflow has a shadow run yet." in render({}, "md")


def test_streak_falls_back_to_history_and_durations_to_the_newest_entry() -> None:
    flow = make_report()["workflows"][0]
    del flow["streak"]
    flow["history"].insert(1, {**flow["history"][0], "correlation_id": "c1b"})
    assert view.streak(flow) == ("mismatch", 2)
    del flow["latest"]["airflow"]["duration_s"]
    del flow["latest"]["shadow_wall_s"]
    assert view.latest_side(flow, "airflow")["duration_s"] == 3.2
    assert view.wall_time(flow) == 9.0
    assert view.streak({"history": [], "latest": None}) == (None, 0)
    assert view.duration(3.25) == "3.2 s" and view.duration(125) == "2 min 05 s" and view.duration("3") == "—"
