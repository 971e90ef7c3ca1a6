"""promote, cutover, retire, rollback: one use case each way through the stages, under the store's lock.

Each checks the workflow's stage in the store (the truth; bridge.toml's until a change is recorded),
applies the switch, and records the change with who, why and the evidence. Rerunning a move that is done
(or half-done) finishes it: the switch compares both schedulers with the stage and does what is missing.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from bridge import publish
from bridge.config import Catalog
from bridge.cutover.evidence import gates_for
from bridge.cutover.gates import Gate, unmet
from bridge.cutover.ledger import Ledger, StageChange, default_actor
from bridge.cutover.switch import Say, Switch
from bridge.errors import GatesUnmetError, UnknownWorkflowError, UsageError
from bridge.operations import Backends
from bridge.store import Store

# verb -> (the stage it moves from, None: any; the stage it moves to)
MOVES: dict[str, tuple[str | None, str]] = {
    "promote": ("airflow", "shadow"),
    "cutover": ("shadow", "prefect"),
    "retire": ("prefect", "retired"),
    "rollback": (None, "airflow"),
}
NEXT = {"airflow": "promote", "shadow": "cutover", "prefect": "retire"}


@dataclass
class MoveResult:
    workflow: str
    verb: str
    from_stage: str
    to_stage: str
    steps: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    change: StageChange | None = None  # None: it was already there (the run finished what was missing)


def move(
    backends: Backends,
    store: Store,
    declared: Catalog,
    dag_id: str,
    verb: str,
    *,
    actor: str | None = None,
    reason: str = "",
    force: bool = False,
    say: Say = lambda line: None,
) -> MoveResult:
    """Move ``dag_id`` by ``verb``; ``declared`` is bridge.toml as written (its stages are the starting
    point of workflows the store has not seen)."""
    if verb not in MOVES:
        raise UsageError(f"unknown move {verb!r}: use one of {', '.join(MOVES)}")
    if dag_id not in declared.workflows:
        raise UnknownWorkflowError(dag_id, list(declared.workflows))
    if force and not reason.strip():
        raise UsageError('--force needs --reason "why": a forced cutover is audited with its reason')
    entry = declared.workflows[dag_id]
    needed, to_stage = MOVES[verb]
    actor = actor or default_actor()
    ledger = Ledger(store)
    owner = f"{actor}@{socket.gethostname()}:{os.getpid()} {verb}"
    with ledger.locked(dag_id, owner, entry.stage):
        record = ledger.current(dag_id)
        current = record.stage if record else entry.stage
        switch = Switch(backends, entry, say)
        result = MoveResult(dag_id, verb, current, to_stage)
        if current == to_stage:
            say(f"{dag_id} is already in stage {to_stage}: bringing both schedulers in line with it")
            result.pending = switch.to_stage(current, to_stage, undo_on_failure=False)
            result.steps = switch.steps
            return result
        if needed is not None and current != needed:
            hint = f"`bridge {NEXT[current]} {dag_id}`" if current in NEXT else "nothing: it is retired"
            raise UsageError(
                f"{verb} moves a workflow from {needed} to {to_stage}, and {dag_id} is in {current} "
                f"(next: {hint}; back: `bridge rollback {dag_id}`)"
            )
        forced = False
        if verb == "cutover":
            result.gates = gates_for(backends, store, entry)
            failing = unmet(result.gates)
            if failing and not force:
                raise GatesUnmetError(
                    f"cutover of {dag_id} refused: {len(failing)} gate(s) unmet "
                    f"({', '.join(g.name for g in failing)}); see `bridge gates {dag_id}`, or --force --reason"
                ).about(gates=[g.to_dict() for g in result.gates])
            forced = bool(failing)
            if forced:
                say(f"FORCED past {len(failing)} unmet gate(s) by {actor}: {reason}")
        result.pending = switch.to_stage(current, to_stage, undo_on_failure=True)
        result.steps = switch.steps
        evidence = sorted({i for g in result.gates for i in g.evidence})
        result.change = ledger.record(
            dag_id,
            current,
            to_stage,
            actor=actor,
            reason=reason,
            evidence=evidence,
            forced=forced,
            steps=switch.steps,
        )
        publish.after_stage_change(store, backends.catalog, result.change)  # its alerts: best-effort
        return result
