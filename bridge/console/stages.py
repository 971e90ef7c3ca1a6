"""`bridge stages [X] [--history]`: each workflow's stage, where that truth comes from, and its changes."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, Any

from bridge.console.common import Options


def stages(workflows: Sequence[str], history: bool, opts: Options, out: IO[str] = sys.stdout) -> None:
    """One row per workflow (the catalog's, and any the store knows); with ``history``, every change."""
    from bridge import config
    from bridge.cutover import truth
    from bridge.cutover.ledger import Ledger
    from bridge.errors import UnknownWorkflowError
    from bridge.store import Store

    catalog = config.load()
    ledger = Ledger(Store(catalog.store_url))
    current = ledger.all_current()
    stored = {w: r.stage for w, r in current.items()}
    known = sorted(set(catalog.workflows) | set(current))
    for name in workflows:
        if name not in known:
            raise UnknownWorkflowError(name, known)
    names = list(workflows) or known
    rows = []
    for name in names:
        stage, source = truth.stage_source(catalog, stored, name)
        record = current.get(name)
        last = ledger.history(name, limit=1) if record else []
        toml_stage = catalog.workflows[name].stage if name in catalog.workflows else None
        rows.append(
            {
                "workflow": name,
                "stage": stage,
                "source": source,
                "since": _iso(record.since) if record else None,
                "actor": last[-1].actor if last else None,
                "toml_stage": toml_stage,
            }
        )
    changes = [c.to_dict() for name in names for c in ledger.history(name)] if history else []
    if opts.as_json:
        doc: dict[str, Any] = {"workflows": rows}
        if history:
            doc["history"] = sorted(changes, key=lambda c: (c["at"], c["id"]))
        json.dump(doc, out, indent=2)
        out.write("\n")
        return
    out.write(_table(rows))
    if history:
        out.write("\n" if rows else "")
        for change in sorted(changes, key=lambda c: (c["at"], c["id"])):
            out.write(change_line(change) + "\n")
        if not changes:
            out.write("(no stage changes recorded)\n")


def change_line(change: dict[str, Any]) -> str:
    """``2026-12-03T15:10:00Z update_prices_daily airflow -> shadow by alice: reason [evidence #3, #4]``."""
    forced = " FORCED" if change["forced"] else ""
    evidence = f" [evidence {', '.join(f'#{i}' for i in change['evidence'])}]" if change["evidence"] else ""
    reason = f": {change['reason']}" if change["reason"] else ""
    return (
        f"{change['at']} {change['workflow']} {change['from']} -> {change['to']}{forced} "
        f"by {change['actor']}{reason}{evidence}"
    )


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("WORKFLOW", "STAGE", "SINCE", "BY", "FROM")
    table = [header]
    for r in rows:
        where = r["source"]
        if r["source"] == "store" and r["toml_stage"] and r["toml_stage"] != r["stage"]:
            where = f"store (bridge.toml says {r['toml_stage']}; the store wins)"
        table.append((r["workflow"], r["stage"], r["since"] or "-", r["actor"] or "-", where))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    return "\n".join(lines) + "\n" if rows else "(no workflows)\n"


def _iso(moment: Any) -> str:
    from bridge.console.runs import iso_utc

    return str(iso_utc(moment))
