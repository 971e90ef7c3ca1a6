"""The switch: make both schedulers match a stage, one step at a time, each step said and idempotent.

What each stage wants of each side (``paused``, ``target`` of the scheduled runs; None: the workflow's own
default, its primary target):

    stage     airflow                         prefect
    airflow   active, primary                 paused, primary (default)
    shadow    active, primary                 active, shadow target
    prefect   active, shadow (reverse shadow) active, primary
    retired   paused                          active, primary

Order is what keeps the primary target safe: the side leaving the primary moves first (cutover: Airflow
off the primary, then Prefect onto it; if Prefect's step fails, Airflow's is undone), and within a side a
schedule is resumed only after its target is set, and paused before its target is reset. A rollback puts
Airflow back first (resuming Airflow is what matters, and it must work while Prefect is down): a Prefect
step that cannot be made is reported as pending, and rerunning the rollback finishes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bridge.backends.base import Backend
from bridge.config import WorkflowEntry
from bridge.errors import BridgeError, UsageError
from bridge.operations import Backends

Say = Callable[[str], object]


@dataclass(frozen=True)
class Want:
    """One side's schedule as a stage wants it."""

    paused: bool
    target: str | None  # None: the workflow's own default (its primary target)


def wanted(entry: WorkflowEntry, stage: str) -> dict[str, Want]:
    """Both sides' wanted schedule for ``entry`` in ``stage``."""
    shadow = entry.shadow.shadow_target(entry.shadow.primary_target)
    return {
        "airflow": {
            "airflow": Want(False, None),
            "shadow": Want(False, None),
            "prefect": Want(False, shadow),
            "retired": Want(True, shadow),
        }[stage],
        "prefect": {
            "airflow": Want(True, None),
            "shadow": Want(False, shadow),
            "prefect": Want(False, None),
            "retired": Want(False, None),
        }[stage],
    }


def order(from_stage: str, to_stage: str) -> tuple[str, ...]:
    """Which side moves first: the one leaving the primary, or Airflow when it comes back to it."""
    if to_stage == "airflow":
        return ("airflow", "prefect")
    if to_stage == "shadow" and from_stage == "airflow":
        return ("prefect", "airflow")
    return ("airflow", "prefect")


class Switch:
    """Applies a stage to one workflow's two schedulers, saying each step."""

    def __init__(self, backends: Backends, entry: WorkflowEntry, say: Say) -> None:
        if not entry.deployment:
            raise UsageError(
                f"{entry.dag_id} names no Prefect deployment in bridge.toml: it cannot leave airflow"
            )
        self.backends = backends
        self.entry = entry
        self.say = say
        self.steps: list[str] = []

    def _name(self, side: str) -> str:
        return self.entry.dag_id if side == "airflow" else str(self.entry.deployment)

    def _step(self, line: str) -> None:
        self.steps.append(line)
        self.say(line)

    def apply_side(self, side: str, want: Want) -> Want:
        """Bring ``side`` to ``want``; return what it was (for an undo)."""
        backend: Backend = self.backends.get(side)
        name = self._name(side)
        state = backend.schedule_state(name)
        was = Want(state.paused, state.target)
        where = want.target or "its default (the primary target)"
        if want.paused and not state.paused:
            backend.pause(name)
            self._step(f"{side}: paused {name}")
        if state.target != want.target:
            backend.set_default_target(name, want.target)
            self._step(f"{side}: scheduled runs of {name} now write to {where}")
        if not want.paused and state.paused:
            backend.resume(name)
            self._step(f"{side}: resumed {name}")
        if was == want:
            self._step(f"{side}: {name} already {'paused' if want.paused else 'active'}, writing to {where}")
        return was

    def to_stage(self, from_stage: str, to_stage: str, *, undo_on_failure: bool) -> list[str]:
        """Apply ``to_stage`` side by side; return the steps left pending (a rollback's Prefect side when
        Prefect cannot be reached). Otherwise a failing second side undoes the first (``undo_on_failure``)
        and the error is raised: nothing half-switched."""
        want = wanted(self.entry, to_stage)
        first, second = order(from_stage, to_stage)
        before = self.apply_side(first, want[first])
        try:
            self.apply_side(second, want[second])
        except BridgeError as exc:
            if to_stage == "airflow":  # a rollback: Airflow is back, which is what matters
                line = f"{second}: PENDING, not reached ({exc}); rerun `bridge rollback {self.entry.dag_id}` to finish"
                self._step(line)
                return [line]
            if undo_on_failure:
                self._step(f"{second}: failed ({exc}); undoing {first}'s step")
                self.apply_side(first, before)
            raise
        return []
