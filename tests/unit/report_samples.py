"""Sample reports for the renderer tests: a full one, one with everything a verdict sets aside or
leaves out, a hostile one, and an HTML page parser."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

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
                "deployment": "update-prices-daily/update_prices_daily",
                "streak": {"verdict": "mismatch", "count": 3},
                "noise_paths": [
                    {"path": "result.duration", "abs_spread": None, "rel_spread": None, "seen": "varies"}
                ],
                "calibrations": [
                    {
                        "at": "2026-11-20T08:00:00+00:00",
                        "runs": 2,
                        "controls": ["calib1_main", "calib2_main"],
                        "fingerprints": ["f1", "f1"],
                        "noise": [
                            {
                                "path": "result.duration",
                                "abs_spread": None,
                                "rel_spread": None,
                                "seen": "varies",
                            }
                        ],
                    }
                ],
                "history": [
                    {
                        "correlation_id": "c2",
                        "verdict": "mismatch",
                        "verdict_line": "mismatch (3 values, 2 rows in price_history, 1 noise)",
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
                        "verdict_line": "match (0 differences)",
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
                    "verdict_line": "mismatch (3 values, 2 rows in price_history, 1 noise)",
                    "tally": {
                        "values": 3,
                        "rows": {"price_history": 2},
                        "tables_one_side": [],
                        "table_errors": [],
                        "ignored": 0,
                        "noise": 1,
                        "real": 5,
                    },
                    "at": "2026-11-26T20:59:00+00:00",
                    "airflow": {
                        "state": "success",
                        "duration_s": 3.2,
                        "elapsed_s": 4.4,
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
                    ],
                    "set_aside": [
                        {
                            "path": "result.duration",
                            "airflow": 1.5,
                            "prefect": 4.5,
                            "kind": "noise",
                            "note": "calibrated noise (varies)",
                        },
                    ],
                    "tables": [
                        {
                            "table": "price_history",
                            "key": ["product_id", "business_date"],
                            "scope": "business_date = '2024-12-31'",
                            "present": "both",
                            "excluded": None,
                            "rows_differing": 2,
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
                "deployment": "daily-summary/daily_summary",
                "streak": {"verdict": "match", "count": 5},
                "noise_paths": [],
                "history": [],
                "latest": {
                    "correlation_id": "c9",
                    "verdict": "match",
                    "verdict_line": "match (0 differences)",
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


def verdict_report() -> dict[str, Any]:
    """The sample with what a verdict sets aside or leaves out: ignored rows with their reasons, noise
    with its spread, a value outside its spread, a table in one target only, an excluded table, keys that
    hold a date, and two calibrations."""
    report = make_report()
    flow = report["workflows"][0]
    latest = flow["latest"]
    latest["verdict_line"] = "mismatch (2 values, 5 rows in price_history, 3 ignored)"
    flow["history"][0]["verdict_line"] = latest["verdict_line"]
    latest["differences"] = [
        {"path": "result.checksum", "airflow": "ab12", "prefect": "cd34", "kind": "changed", "note": ""},
        {
            "path": "result.elapsed_ms",
            "airflow": 10.0,
            "prefect": 19.0,
            "kind": "changed",
            "note": "outside calibrated noise (seen ±2.5 (20.0%))",
        },
    ]
    latest["set_aside"] = [
        {"path": f"result.run_at_{i}", "airflow": "a", "prefect": "b", "kind": "ignored", "note": REASON}
        for i in range(3)
    ] + [
        {
            "path": "result.ms",
            "airflow": 10.0,
            "prefect": 12.0,
            "kind": "noise",
            "note": "calibrated noise (±2.5 (20.0%))",
        }
    ]
    table = latest["tables"][0]
    table.update(
        only_airflow=[[357, "2024-12-31"], [358, "2024-12-31"]],
        only_airflow_count=2,
        changed=[{"key": [7, "2024-12-31"], "columns": ["price"]}],
        changed_count=3,
        rows_differing=5,
    )
    latest["tables"] += [
        {
            "table": "products_backup",
            "key": ["id"],
            "scope": "written in this run",
            "present": "prefect",
            "excluded": None,
            "airflow_rows": 0,
            "prefect_rows": 4,
            "only_prefect_count": 4,
            "equal": False,
            "error": None,
        },
        {
            "table": "etl_runs",
            "key": ["run_id"],
            "scope": "whole table",
            "present": "both",
            "excluded": "a run log: one row per run, its ids differ by design",
            "equal": True,
            "error": None,
        },
    ]
    flow["noise_paths"] = [
        {"path": "result.ms", "abs_spread": 2.5, "rel_spread": 0.2, "seen": "±2.5 (20.0%)"},
        {"path": "result.lucky", "abs_spread": None, "rel_spread": None, "seen": "varies"},
    ]
    flow["calibrations"].insert(
        0,
        {
            "at": "2026-11-25T08:00:00+00:00",
            "runs": 3,
            "controls": ["calib1_main", "calib2_main", "calib3_main"],
            "fingerprints": ["f2", "f2", "f2"],
            "noise": flow["noise_paths"],
        },
    )
    report["workflows"][1]["calibrations"] = []
    return report


REASON = "the run's own wall clock: set by the scheduler, not by the port"


def report_linking(url: str) -> dict[str, Any]:
    """The sample report with ``url`` as the latest and the oldest Airflow run's link."""
    report = make_report()
    report["workflows"][0]["latest"]["airflow"]["url"] = url
    report["workflows"][0]["history"][0]["airflow_url"] = url
    return report


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
    flow["deployment"] = ATTR + SCRIPT
    flow["noise_paths"] = [{"path": SCRIPT, "seen": ATTR}, SCRIPT]
    flow["calibrations"][0]["controls"] = [SCRIPT]
    latest["verdict_line"] = f"mismatch ({ATTR}{SCRIPT})"
    latest["set_aside"][0]["note"] = SCRIPT
    latest["tables"][0]["scope"] = ATTR + SCRIPT
    # The second workflow's comparison, so they follow the first one's set-aside (noise) row on the page.
    report["workflows"][1]["latest"]["differences"] = [
        {"path": f"result.{SCRIPT}", "airflow": SCRIPT, "prefect": ATTR, "kind": "changed", "note": ATTR},
        {"path": "result.odd", "airflow": 1, "prefect": 2, "kind": ATTR + SCRIPT, "note": ""},
    ]
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
