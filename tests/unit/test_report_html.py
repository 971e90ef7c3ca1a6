"""The HTML report escapes every value, links only http(s) URLs and loads nothing from anywhere; odd input
never raises in any format."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from bridge.report import render, view
from tests.unit.report_samples import (
    AIRFLOW_URL,
    ATTR,
    DATA_URLS,
    PREFECT_URL,
    SCRIPT,
    Page,
    hostile_report,
    make_report,
    report_linking,
)


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
    assert "Calibrations" in doc and "<code>result.duration varies</code>" in doc
    assert 'data-table="price_history"' in doc and '<td class="status">differs</td>' in doc
    assert "<code>business_date = &#x27;2024-12-31&#x27;</code>" in doc  # the table's scope
    assert "No differences." in doc
    # the noise row is listed apart, under "Set aside", after the real differences and the tables
    assert doc.index("result.extra") < doc.index('data-table="price_history"') < doc.index("<h3>Set aside")
    assert doc.index("<h3>Set aside") < doc.index("result.duration</code></td>")
    assert "calibrated: it varies" in page.rows[3]["text"]
    assert "Prefect deployment <code>update-prices-daily/update_prices_daily</code>" in doc


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
    hostile_row = next(r for r in page.rows if f"result.{SCRIPT}" in r["text"])
    assert hostile_row["attrs"]["data-kind"] == "changed"
    noise_row = next(r for r in page.rows if r["attrs"]["data-kind"] == "noise")
    assert SCRIPT in noise_row["text"]  # a hostile note on a set-aside row: shown as text
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
    report = report_linking(url)
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
