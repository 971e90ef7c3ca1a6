"""`bridge gates X [--json]`: each cutover gate of a workflow, held or not, with its evidence; acts on
nothing. Exit 8 when a gate does not hold. The JSON is what an Argo Rollouts web metric or a Flagger
webhook reads: {"workflow", "stage", "ok", "gates": [{gate, ok, detail, evidence}], "exit_code"}."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from bridge.console.common import Options, backends_for


def gate_line(gate: Any) -> str:
    """``ok   streak: the last 5 comparisons are match [#12, #11, ...]``."""
    evidence = f" [{', '.join(f'#{i}' for i in gate.evidence)}]" if gate.evidence else ""
    return f"{'ok' if gate.ok else 'FAIL':<4} {gate.name}: {gate.detail}{evidence}"


def gates(dag_id: str, opts: Options, out: IO[str] = sys.stdout) -> None:
    from bridge.cutover.evidence import gates_for
    from bridge.cutover.gates import unmet
    from bridge.errors import GatesUnmetError, UnknownWorkflowError
    from bridge.store import Store

    backends = backends_for(opts)
    catalog = backends.catalog
    if dag_id not in catalog.workflows:
        raise UnknownWorkflowError(dag_id, list(catalog.workflows))
    entry = catalog.workflows[dag_id]
    found = gates_for(backends, Store(catalog.store_url), entry)
    failing = unmet(found)
    error = (
        GatesUnmetError(
            f"{dag_id}: {len(failing)} of {len(found)} gates unmet ({', '.join(g.name for g in failing)})"
        )
        if failing
        else None
    )
    if opts.as_json:
        doc = {
            "workflow": dag_id,
            "stage": entry.stage,
            "ok": not failing,
            "gates": [g.to_dict() for g in found],
            "exit_code": error.exit_code if error else 0,
        }
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        for gate in found:
            out.write(gate_line(gate) + "\n")
        held = len(found) - len(failing)
        out.write(f"{dag_id} (stage {entry.stage}): {held} of {len(found)} gates hold\n")
    if error is not None:
        error.printed = opts.as_json
        raise error
