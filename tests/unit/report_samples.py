"""Sample reports for the renderer tests: a full one, a hostile one, and an HTML page parser."""

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
