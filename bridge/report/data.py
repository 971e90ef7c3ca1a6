"""Build the report document (a plain JSON-able dict) from the history store; the renderers take it from here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.compare.model import SET_ASIDE, Difference, NoiseSpread, TableDiff, Tally, json_value
from bridge.config import Catalog
from bridge.store import Store


def _side(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {}
    return {
        "state": row.get("state"),
        "duration_s": row.get("duration_s"),
        "elapsed_s": row.get("elapsed_s"),
        "url": row.get("url"),
        "run": row.get("run"),
        "error": row.get("error"),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def streak(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest verdict and how many comparisons in a row (newest first) had it."""
    if not history:
        return {"verdict": None, "count": 0}
    first = history[0]["verdict"]
    count = next((i for i, h in enumerate(history) if h["verdict"] != first), len(history))
    return {"verdict": first, "count": count}


def tally_dict(tally: Tally) -> dict[str, Any]:
    """A verdict's tally as JSON: real value differences, differing rows per table, what was set aside."""
    return {
        "values": tally.values,
        "rows": dict(tally.rows),
        "tables_one_side": list(tally.tables_one_side),
        "table_errors": list(tally.table_errors),
        "ignored": tally.ignored,
        "noise": tally.noise,
        "real": tally.real,
    }


def spread_dict(spread: NoiseSpread | Any) -> dict[str, Any]:
    """One calibrated noise path, with the spread seen in words (``±2.5 (20.0%)`` or ``varies``)."""
    if not isinstance(spread, NoiseSpread):  # an older store's bare path
        return {"path": str(spread), "abs_spread": None, "rel_spread": None, "seen": "varies"}
    return {**spread.to_dict(), "seen": spread.describe()}


def table_dict(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored table diff, with the fields older rows lack defaulted (they compared whole tables, both
    present, none excluded)."""
    counts = [_int(stored.get(f)) for f in ("only_airflow_count", "only_prefect_count", "changed_count")]
    return {
        **stored,
        "scope": stored.get("scope") or "whole table",
        "present": stored.get("present") or "both",
        "excluded": stored.get("excluded"),
        "rows_differing": _int(stored.get("rows_differing")) or sum(counts),
    }


def _table_diff(t: dict[str, Any]) -> TableDiff:
    return TableDiff(
        str(t.get("table")),
        tuple(t.get("key") or ()),
        _int(t.get("airflow_rows")),
        _int(t.get("prefect_rows")),
        only_airflow_count=_int(t.get("only_airflow_count")),
        only_prefect_count=_int(t.get("only_prefect_count")),
        changed_count=_int(t.get("changed_count")),
        error=t.get("error"),
        scope=str(t.get("scope")),
        present=str(t.get("present")),
        excluded=t.get("excluded"),
    )


def tally_of(differences: list[dict[str, Any]], tables: list[dict[str, Any]]) -> Tally:
    """The tally of a stored comparison (differences and table diffs as the store returns them)."""
    rows = [Difference(str(d.get("path")), None, None, str(d.get("kind")), "") for d in differences]
    return Tally.of(rows, [_table_diff(table_dict(t)) for t in tables])


def comparison(verdict: Any, summary: Any, details: dict[str, Any]) -> dict[str, Any]:
    """A stored comparison's verdict line, tally, real and set-aside differences, tables (defaulted)."""
    diffs = [d for d in details.get("differences", []) if isinstance(d, dict)]
    tables = [table_dict(t) for t in details.get("tables", []) if isinstance(t, dict)]
    tally = tally_of(diffs, tables)
    return {
        "verdict_line": summary
        if isinstance(summary, str) and summary
        else f"{verdict} ({tally.describe()})",
        "tally": tally_dict(tally),
        "differences": [d for d in diffs if d.get("kind") not in SET_ASIDE],
        "set_aside": [d for d in diffs if d.get("kind") in SET_ASIDE],
        "tables": tables,
    }


def calibrations(store: Any, workflow: str) -> list[dict[str, Any]] | None:
    """The workflow's calibrations, newest first (when, runs, controls, noise paths with spreads); None
    for a store that keeps none."""
    if not hasattr(store, "calibrations"):
        return None
    return [
        {
            "at": _iso(c.at),
            "runs": c.runs,
            "controls": list(c.controls),
            "fingerprints": list(c.fingerprints),
            "noise": [spread_dict(n) for n in c.noise],
        }
        for c in store.calibrations(workflow)
    ]


def history_item(store: Store, h: dict[str, Any]) -> dict[str, Any]:
    """One stored comparison (a ``Store.history`` row) as a report's history entry."""
    af, pf = h["sides"].get("airflow", {}), h["sides"].get("prefect", {})
    line = h.get("summary")
    if not line:  # stored before the verdict line was: count it from the details
        line = comparison(h["verdict"], None, store.details(h["id"]))["verdict_line"]
    return {
        "id": h["id"],
        "correlation_id": h["correlation_id"],
        "verdict": h["verdict"],
        "verdict_line": line,
        "origin": h.get("origin") or "manual",
        "at": _iso(h["at"]),
        "airflow_duration_s": af.get("duration_s"),
        "prefect_duration_s": pf.get("duration_s"),
        "airflow_elapsed_s": af.get("elapsed_s"),
        "prefect_elapsed_s": pf.get("elapsed_s"),
        "shadow_wall_s": h["shadow_wall_s"],
        "differences": h["differences"],
        "airflow_url": af.get("url"),
        "prefect_url": pf.get("url"),
    }


def latest_item(store: Store, latest: dict[str, Any]) -> dict[str, Any]:
    """One stored comparison in full: both sides, its verdict line, tally, differences, tables."""
    return {
        "id": latest["id"],
        "correlation_id": latest["correlation_id"],
        "verdict": latest["verdict"],
        "origin": latest.get("origin") or "manual",
        "at": _iso(latest["at"]),
        "airflow": _side(latest["sides"].get("airflow")),
        "prefect": _side(latest["sides"].get("prefect")),
        "shadow_wall_s": latest["shadow_wall_s"],
        **comparison(latest["verdict"], latest.get("summary"), store.details(latest["id"])),
    }


def build(store: Store, catalog: Catalog, workflow: str | None = None, limit: int = 20) -> dict[str, Any]:
    """The report document of one workflow (or every workflow with a comparison)."""
    names = [workflow] if workflow else store.workflows()
    workflows = []
    for name in names:
        history = store.history(name, limit)
        entry = catalog.entry(name)
        workflows.append(
            {
                "workflow": name,
                "stage": entry.stage,
                "deployment": entry.deployment or None,
                "streak": streak(history),
                "noise_paths": [spread_dict(n) for n in store.noise_paths(name)],
                "calibrations": calibrations(store, name),
                "history": [history_item(store, h) for h in history],
                "latest": latest_item(store, history[0]) if history else None,
            }
        )
    report: dict[str, Any] = json_value(
        {"generated_at": datetime.now(UTC).isoformat(), "workflows": workflows}
    )
    return report
