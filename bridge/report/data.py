"""Build the report document (a plain JSON-able dict) from the history store; the renderers take it from here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


def streak(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest verdict and how many comparisons in a row (newest first) had it."""
    if not history:
        return {"verdict": None, "count": 0}
    first = history[0]["verdict"]
    count = next((i for i, h in enumerate(history) if h["verdict"] != first), len(history))
    return {"verdict": first, "count": count}


def build(store: Store, catalog: Catalog, workflow: str | None = None, limit: int = 20) -> dict[str, Any]:
    names = [workflow] if workflow else store.workflows()
    workflows = []
    for name in names:
        history = store.history(name, limit)
        entry = catalog.entry(name)
        item: dict[str, Any] = {
            "workflow": name,
            "stage": entry.stage,
            "streak": streak(history),
            "noise_paths": store.noise_paths(name),
            "history": [],
            "latest": None,
        }
        for h in history:
            af, pf = h["sides"].get("airflow", {}), h["sides"].get("prefect", {})
            item["history"].append(
                {
                    "correlation_id": h["correlation_id"],
                    "verdict": h["verdict"],
                    "at": _iso(h["at"]),
                    "airflow_duration_s": af.get("duration_s"),
                    "prefect_duration_s": pf.get("duration_s"),
                    "shadow_wall_s": h["shadow_wall_s"],
                    "differences": h["differences"],
                    "airflow_url": af.get("url"),
                    "prefect_url": pf.get("url"),
                }
            )
        if history:
            latest = history[0]
            item["latest"] = {
                "correlation_id": latest["correlation_id"],
                "verdict": latest["verdict"],
                "at": _iso(latest["at"]),
                "airflow": _side(latest["sides"].get("airflow")),
                "prefect": _side(latest["sides"].get("prefect")),
                "shadow_wall_s": latest["shadow_wall_s"],
                **store.details(latest["id"]),
            }
        workflows.append(item)
    return {"generated_at": datetime.now(UTC).isoformat(), "workflows": workflows}
