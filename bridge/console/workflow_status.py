"""`bridge status [WORKFLOW]...`: per workflow, its stage and since when, the verdict streak and its
origins, the last verdict, where its schedulers disagree with its stage, the unmet gates (in shadow) and
the one command that moves it on."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from bridge.console.common import Options, backends_for

# the move that brings a workflow to each stage: rerun it to finish a half-done switch
FINISH = {"airflow": "rollback", "shadow": "promote", "prefect": "cutover", "retired": "retire"}


def workflow_status(workflows: Sequence[str], opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge import config
    from bridge.cutover.drift import drift
    from bridge.cutover.evidence import gates_for, recorded
    from bridge.cutover.gates import unmet
    from bridge.cutover.ledger import Ledger
    from bridge.errors import UnknownWorkflowError
    from bridge.store import Store

    backends = backends_for(opts)
    declared = config.load()
    store = Store(declared.store_url)
    ledger = Ledger(store)
    for name in workflows:
        if name not in declared.workflows:
            raise UnknownWorkflowError(name, list(declared.workflows))
    rows = []
    for name in workflows or list(declared.workflows):
        entry = backends.catalog.workflows[name]
        record = ledger.current(name)
        history = recorded(store, name, 50)
        streak = 0
        while streak < len(history) and history[streak].verdict == "match":
            streak += 1
        problems = drift(backends, entry, entry.stage) if entry.deployment else []
        unmet_gates = (
            [g.to_dict() for g in unmet(gates_for(backends, store, entry))] if entry.stage == "shadow" else []
        )
        rows.append(
            {
                "workflow": name,
                "stage": entry.stage,
                "since": record.since.isoformat().replace("+00:00", "Z") if record else None,
                "streak": streak,
                "streak_origins": dict(Counter(e.origin for e in history[:streak])),
                "last_verdict": history[0].verdict if history else None,
                "last_comparison": history[0].id if history else None,
                "drift": problems,
                "unmet_gates": unmet_gates,
                "next": _next(name, entry, problems, unmet_gates),
            }
        )
    if opts.as_json:
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    for row in rows:
        out.write(_lines(row))


def _next(name: str, entry: Any, problems: list[str], unmet_gates: list[dict[str, Any]]) -> str | None:
    if problems:
        return f"bridge {FINISH[entry.stage]} {name}"
    if entry.stage == "airflow":
        return f"bridge promote {name}" if entry.deployment else None
    if entry.stage == "shadow":
        return f"bridge gates {name}" if unmet_gates else f"bridge cutover {name}"
    if entry.stage == "prefect":
        return f"bridge retire {name}"
    return None


def _lines(row: dict[str, Any]) -> str:
    since = f" since {row['since']}" if row["since"] else " (bridge.toml)"
    origins = ", ".join(f"{n} {o}" for o, n in sorted(row["streak_origins"].items()))
    streak = f"{row['streak']} match(es) in a row" + (f" ({origins})" if origins else "")
    last = (
        f"last #{row['last_comparison']} {row['last_verdict']}"
        if row["last_verdict"]
        else "no comparison yet"
    )
    lines = [f"{row['workflow']}: stage {row['stage']}{since}; {streak}; {last}"]
    lines += [f"  DRIFT {p}" for p in row["drift"]]
    lines += [f"  gate unmet {g['gate']}: {g['detail']}" for g in row["unmet_gates"]]
    if row["next"]:
        lines.append(f"  next: {row['next']}")
    return "".join(line + "\n" for line in lines)
