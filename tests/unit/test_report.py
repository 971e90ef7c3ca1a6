"""The report renderers: the public names and format dispatch; JSON is stable; Markdown cells cannot be
split by the data."""

from __future__ import annotations

import copy
import json
import re

import pytest

import bridge.report
from bridge.errors import UsageError
from bridge.report import markdown, render, view
from tests.unit.report_samples import (
    AIRFLOW_URL,
    OLD_PREFECT_URL,
    PREFECT_URL,
    hostile_report,
    make_report,
    report_linking,
)


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
def test_markdown_shows_streak_durations_links_diffs_tables_and_set_aside_rows() -> None:
    md = render(make_report(), "md")
    assert "## `update_prices_daily`" in md and "## `daily_summary`" in md
    assert "verdict streak: **mismatch** × 3" in md
    assert "verdict streak: **match** × 5" in md
    assert "| Ran (start → end) | 3.2 s | 8.1 s |" in md  # the run's own start to end
    assert "| Waited (trigger → end) | 4.4 s | — |" in md  # what the caller waited, queueing included
    assert "Shadow wall time (both sides in parallel): 9.0 s (slower side + 0.9 s)" in md
    assert f"[`airflow:update_prices_daily/shadow__c2`]({AIRFLOW_URL})" in md
    assert f"[`prefect:0b4e7c1a`]({PREFECT_URL})" in md
    assert "| Path | Airflow | Prefect | Kind | Note |" in md
    assert '| `result.checksum` | `"ab12"` | `"cd34"` | `changed` |  |' in md
    assert '| `result.rows` | `261` | `"261"` | `type_changed` |' in md
    assert "| `result.extra` | *absent* | `[1, 2]` | `only_prefect` |" in md
    assert "| `result.duration` | `1.5` | `4.5` | `noise` |" in md
    assert "#### Differences (3)" in md
    assert "#### Set aside (0 ignored, 1 noise: listed, not counted)" in md
    assert md.index("`result.extra`") < md.index("#### Set aside") < md.index("`result.duration`")
    assert "| `result.duration` | `1.5` | `4.5` | `noise` | `calibrated: it varies` |" in md
    assert "Verdict: **mismatch** (`3 values, 2 rows in price_history, 1 noise`)" in md
    assert "Prefect deployment `update-prices-daily/update_prices_daily`" in md
    assert (
        "| `2026-11-20T08:00:00+00:00` | 2 | `calib1_main`, `calib2_main` | `result.duration varies` |" in md
    )
    assert (
        "| `price_history` | `product_id, business_date` | `business_date = '2024-12-31'` "
        "| 261 | 260 | 1 | 0 | 1 | **differs** |" in md
    )
    assert '| Only in Airflow | `[12, "2024-12-31"]` |  |' in md
    assert '| Changed | `[7, "2024-12-31"]` | `price` |' in md
    assert f"[Prefect]({OLD_PREFECT_URL})" in md
    assert "No differences." in md


def test_markdown_shows_the_current_noise_when_the_store_keeps_no_calibrations() -> None:
    report = make_report()
    del report["workflows"][0]["calibrations"]
    md = render(report, "md")
    assert (
        "Calibrated noise (a difference here within the spread seen" in md
        and "`result.duration varies`" in md
    )
    assert "Calibrations" not in md and "Never calibrated" not in md
    report["workflows"][0]["calibrations"] = []
    assert "Never calibrated: no difference is taken for noise." in render(report, "md")


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
    report = report_linking(url)
    md = render(report, "md")
    assert "](javascript" not in md.lower() and "](data:" not in md and "](//" not in md and "](ftp" not in md
    assert view.safe_url(url) is None
