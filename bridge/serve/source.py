"""What each dashboard page shows, read from the history store on every request.

Only the live facts the gates need from the servers (the deployment, its worker, schedule parity) are
cached, per workflow, for ``facts_ttl`` seconds: a page never waits on both orchestrators each time, and
a server that is down costs one timeout per period, not one per page.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bridge.config import Catalog, WorkflowEntry
from bridge.cutover.evidence import recorded
from bridge.cutover.gates import Gate, LiveFacts, evaluate, unmet
from bridge.cutover.ledger import Ledger
from bridge.report.data import history_item, latest_item
from bridge.serve import chart, queries
from bridge.store import Store

FactsFn = Callable[[WorkflowEntry], LiveFacts]
NEXT = {"airflow": "promote", "shadow": "cutover", "prefect": "retire"}
#: The moves the dashboard offers from each stage (rollback from any): the CLI's verbs.
OFFERED = {"airflow": ("promote",), "shadow": ("cutover", "rollback"), "prefect": ("retire", "rollback")}
STREAK_WINDOW = 50  # comparisons read to count a streak (the index shows "50+" beyond)


def no_facts(entry: WorkflowEntry) -> LiveFacts:
    """Live facts when no server is asked: the gates that need them show as not established."""
    return LiveFacts(entry.deployment, deployment_error="not asked: the dashboard has no backends")


@dataclass
class Source:
    """The history store and the catalog as written (``declared``); the store's stages win over it."""

    store: Store
    declared: Catalog
    facts: FactsFn = no_facts
    facts_ttl: float = 60.0
    history_limit: int = 100  # comparisons drawn in a workflow's picture
    table_limit: int = 20  # comparisons listed in a workflow's history table
    _cache: dict[str, tuple[float, LiveFacts]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.store)

    # -- pieces ---------------------------------------------------------------------------------
    def live_facts(self, entry: WorkflowEntry) -> LiveFacts:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(entry.dag_id)
        if cached and now - cached[0] < self.facts_ttl:
            return cached[1]
        found = self.facts(entry)
        with self._lock:
            self._cache[entry.dag_id] = (now, found)
        return found

    def names(self) -> list[str]:
        return sorted(set(self.declared.workflows) | set(self.store.workflows()))

    def gates(self, entry: WorkflowEntry, stage: str) -> list[Gate]:
        """Every cutover gate of ``entry`` (in stage ``shadow`` only; else none)."""
        if stage != "shadow":
            return []
        history = recorded(self.store, entry.dag_id, entry.cutover.streak)
        return evaluate(entry.cutover, history, entry.shadow.ignore, self.live_facts(entry))

    def row(self, name: str, stages: dict[str, Any]) -> dict[str, Any]:
        """One workflow as the index lists it (``bridge status``'s fields, drift aside)."""
        entry = self.declared.entry(name)
        record = stages.get(name)
        stage = record.stage if record else entry.stage
        history = queries.timeline(self.store, name, STREAK_WINDOW)[::-1]  # light rows, newest first
        streak = 0
        while streak < len(history) and history[streak]["verdict"] == "match":
            streak += 1
        failing = [g.to_dict() for g in unmet(self.gates(entry, stage))]
        verb = NEXT.get(stage)
        if stage == "shadow" and failing:
            verb = "gates"
        return {
            "workflow": name,
            "href": f"/workflows/{quote(name, safe='')}",
            "stage": stage,
            "since": record.since.strftime("%Y-%m-%dT%H:%M:%SZ") if record else None,
            "streak": streak,
            "streak_more": streak == len(history) == STREAK_WINDOW,
            "streak_origins": sorted(Counter(e["origin"] or "manual" for e in history[:streak]).items()),
            "last_verdict": history[0]["verdict"] if history else None,
            "last_comparison": history[0]["id"] if history else None,
            "unmet_gates": failing,
            "next": f"bridge {verb} {name}" if verb and (entry.deployment or stage != "airflow") else None,
        }

    # -- pages ----------------------------------------------------------------------------------
    def overview(self, stage: str | None = None, verdict: str | None = None) -> list[dict[str, Any]]:
        """Every workflow (the catalog's and the store's), filtered by stage and by last verdict."""
        stages = self.ledger.all_current()
        rows = [self.row(name, stages) for name in self.names()]
        if stage:
            rows = [r for r in rows if r["stage"] == stage]
        if verdict:
            rows = [r for r in rows if (r["last_verdict"] or "none") == verdict]
        return rows

    def workflow(self, name: str) -> dict[str, Any] | None:
        """A workflow's page: its row, the picture, the latest comparison with both runs' tasks, the
        history table, the gates and the stage audit trail; None for a workflow nobody knows."""
        if name not in self.declared.workflows and name not in self.store.workflows():
            return None
        entry = self.declared.entry(name)
        record = self.ledger.current(name)
        row = self.row(name, {name: record} if record else {})
        history = self.store.history(name, self.table_limit)
        item = self._item(name, row["stage"], entry, history)
        points = queries.timeline(self.store, name, self.history_limit)
        return {
            "row": row,
            "item": item,
            "tasks": tasks_side_by_side(history[0], entry.shadow.task_map) if history else [],
            "chart": chart.draw(points),
            "gates": [g.to_dict() for g in self.gates(entry, row["stage"])],
            "audit": [c.to_dict() for c in reversed(self.ledger.history(name, limit=50))],
            "moves": OFFERED.get(row["stage"], ("rollback",)),
        }

    def comparison(self, comparison_id: int) -> dict[str, Any] | None:
        found = queries.comparison(self.store, comparison_id)
        if found is None:
            return None
        name = found["workflow"]
        entry = self.declared.entry(name)
        record = self.ledger.current(name)
        item = self._item(name, record.stage if record else entry.stage, entry, [found])
        return {"item": item, "tasks": tasks_side_by_side(found, entry.shadow.task_map), "workflow": name}

    def _item(
        self, name: str, stage: str, entry: WorkflowEntry, history: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The report's workflow entry (the shared templates' shape) over ``history`` (newest first)."""
        from bridge.compare.model import json_value
        from bridge.report.data import calibrations, spread_dict, streak

        item: dict[str, Any] = json_value(
            {
                "workflow": name,
                "stage": stage,
                "deployment": entry.deployment or None,
                "streak": streak(history),
                "noise_paths": [spread_dict(n) for n in self.store.noise_paths(name)],
                "calibrations": calibrations(self.store, name),
                "history": [history_item(self.store, h) for h in history],
                "latest": latest_item(self.store, history[0]) if history else None,
            }
        )
        return item


def _task_link(side: str, run_url: str, name: str, task_id: Any) -> str:
    """A task's page in its UI: Airflow's task instance (under its run), Prefect's task run (by its id;
    the flow run's page when the id was not recorded)."""
    if not run_url:
        return ""
    if side == "airflow":
        return f"{run_url}/tasks/{quote(name, safe='')}"
    base, found, _ = run_url.partition("/runs/flow-run/")
    return f"{base}/runs/task-run/{quote(str(task_id), safe='')}" if found and task_id else run_url


def tasks_side_by_side(
    row: dict[str, Any], task_map: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Each task of one comparison's two runs, by name (Airflow's task ids; Prefect's mapped back through
    ``task_map``): each side's state, value, time (start to end) and its page in that side's UI."""
    sides = row.get("sides") or {}
    times = {s: (sides.get(s) or {}).get("task_times") or {} for s in ("airflow", "prefect")}
    tasks: dict[str, dict[str, Any]] = {}
    for side in ("airflow", "prefect"):
        doc = (sides.get(side) or {}).get("document")
        found = doc.get("tasks") if isinstance(doc, dict) else None
        tasks[side] = found if isinstance(found, dict) else {}
    names = list(dict.fromkeys([*tasks["airflow"], *tasks["prefect"]]))
    out = []
    for name in names:
        cells: dict[str, dict[str, Any]] = {}
        for side in ("airflow", "prefect"):
            task = tasks[side].get(name)
            own = (task_map or {}).get(name, name) if side == "prefect" else name
            found_time = times[side].get(own)
            timing: dict[str, Any] = found_time if isinstance(found_time, dict) else {}
            run_url = str((sides.get(side) or {}).get("url") or "")
            cells[side] = (
                {
                    "state": task.get("state"),
                    "value": task.get("value"),
                    "duration_s": timing.get("duration_s"),
                    "url": _task_link(side, run_url, str(name), timing.get("id")),
                    "present": True,
                }
                if isinstance(task, dict)
                else {"present": False}
            )
        out.append({"name": name, **cells})
    return out


__all__ = ["OFFERED", "FactsFn", "Source", "no_facts", "tasks_side_by_side"]
