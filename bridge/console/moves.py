"""`bridge promote|cutover|retire|rollback X`: one line per step the switch takes, then the change."""

from __future__ import annotations

import json
import sys
from typing import IO

from bridge.console.common import Options, backends_for


def move(
    verb: str,
    dag_id: str,
    opts: Options,
    *,
    actor: str | None,
    reason: str,
    force: bool = False,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> None:
    from bridge import config
    from bridge.cutover.moves import move as do_move
    from bridge.store import Store

    backends = backends_for(opts)
    declared = config.load()

    def say(line: str) -> None:
        if not opts.as_json:
            out.write(line + "\n")
            out.flush()

    store = Store(declared.store_url)
    result = do_move(
        backends,
        store,
        declared,
        dag_id,
        verb,
        actor=actor,
        reason=reason,
        force=force,
        say=say,
    )
    change = result.change
    from bridge import followup

    followup.write_textfile(store, backends.catalog)  # the stage metric
    if opts.as_json:
        doc = {
            "workflow": dag_id,
            "move": verb,
            "from": result.from_stage,
            "to": result.to_stage,
            "steps": result.steps,
            "pending": result.pending,
            "gates": [g.to_dict() for g in result.gates],
            "change": change.to_dict() if change else None,
            "exit_code": 0,
        }
        json.dump(doc, out, indent=2)
        out.write("\n")
    elif change is not None:
        forced = " (FORCED)" if change.forced else ""
        out.write(
            f"{dag_id}: {change.from_stage} -> {change.to_stage}{forced}, change #{change.id} by {change.actor}\n"
        )
    else:
        out.write(f"{dag_id}: in stage {result.to_stage}\n")
    for line in result.pending:
        err.write(f"warning: {line}\n")
