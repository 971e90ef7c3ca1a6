"""Where the two schedulers disagree with a workflow's stage, read from the live servers.

A paused schedule writes nothing, so its target is not held against it; two active schedules writing the
primary target are named first, as the worst case (production written twice).
"""

from __future__ import annotations

from bridge.backends.base import ScheduleState
from bridge.config import WorkflowEntry
from bridge.cutover.switch import Want, wanted
from bridge.errors import BridgeError
from bridge.operations import Backends


def drift(backends: Backends, entry: WorkflowEntry, stage: str) -> list[str]:
    """One line per disagreement of ``entry``'s schedulers with ``stage`` ([] when they agree)."""
    want = wanted(entry, stage)
    names = {"airflow": entry.dag_id, "prefect": entry.deployment}
    states: dict[str, ScheduleState] = {}
    problems: list[str] = []
    for side, name in names.items():
        if name is None:
            continue
        try:
            states[side] = backends.get(side).schedule_state(name)
        except BridgeError as exc:
            problems.append(f"{side}: cannot read the schedule of {name} ({exc})")
    on_primary = [s for s, st in states.items() if not st.paused and st.target is None]
    if len(on_primary) == 2:
        problems.insert(0, "BOTH schedulers are active on the primary target: production is written twice")
    for side, state in states.items():
        problems += _side(side, str(names[side]), state, want[side], stage)
    return problems


def _side(side: str, name: str, state: ScheduleState, want: Want, stage: str) -> list[str]:
    found: list[str] = []
    if state.paused != want.paused:
        now, wanted_word = ("paused", "active") if state.paused else ("active", "paused")
        found.append(f"{side}: {name} is {now}; stage {stage} wants it {wanted_word}")
    if not state.paused and state.target != want.target:
        where = state.target or "the primary target"
        found.append(
            f"{side}: {name}'s scheduled runs write to {where}; stage {stage} wants {want.target or 'the primary'}"
        )
    return found
