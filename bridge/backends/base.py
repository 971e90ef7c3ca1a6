"""The contract every orchestrator backend keeps, and the frozen records it speaks in."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from bridge.errors import UsageError, WaitTimeoutError


class RunState(StrEnum):
    """One vocabulary for both systems' run states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in (RunState.SUCCESS, RunState.FAILED, RunState.CANCELLED)


@dataclass(frozen=True)
class Workflow:
    """A workflow as one backend knows it."""

    id: str
    backend: str
    description: str = ""
    schedule: str | None = None
    timezone: str | None = None
    paused: bool = False
    tags: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    last_run_state: RunState | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class RunRef:
    """Enough to find one run again: its backend, workflow, id in that system and correlation id."""

    backend: str
    workflow_id: str
    run_id: str
    correlation_id: str
    url: str = ""


@dataclass(frozen=True)
class RunStatus:
    ref: RunRef
    state: RunState
    start: datetime | None = None
    end: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_payload(
        cls, ref: RunRef, raw: Mapping[str, Any], states: Mapping[str, RunState], fields: tuple[str, str, str]
    ) -> RunStatus:
        """A status from a server's run payload: ``fields`` name its state, start and end fields, ``states``
        maps its state values to ours (anything else is unknown)."""
        state, start, end = (raw.get(name) for name in fields)
        return cls(ref, states.get(state or "", RunState.UNKNOWN), parse_time(start), parse_time(end), raw)


@dataclass(frozen=True)
class TaskObservation:
    """One task of one run. ``state`` is the common model (the verdict logic's); ``native`` the server's
    own word for it (Airflow's ``skipped``, ``upstream_failed``, ``up_for_retry``; Prefect's state name);
    ``map_states`` the native state of each map index, in index order, when the indices differ."""

    name: str
    state: RunState
    value: Any = None
    native: str = ""
    map_states: tuple[str, ...] = ()
    #: When it ran (a mapped task: the first index's start, the last one's end) and its own id in that
    #: system (Prefect: the task run's id; Airflow: none, the task id names it), for links and times.
    start: datetime | None = field(default=None, compare=False)
    end: datetime | None = field(default=None, compare=False)
    native_id: str = field(default="", compare=False)

    @property
    def shown_state(self) -> str:
        return self.native or self.state.value


@dataclass(frozen=True)
class Readiness:
    """Whether a new run of one workflow can start now, asked before triggering it.

    ``paused``: a new run would sit queued until someone unpauses (an Airflow DAG). ``blocker``: something
    else keeps it from starting (no live worker polls the pool, a paused pool, no scheduler). ``note``:
    worth saying but harmless (a Prefect deployment's paused schedule: a manual run still runs)."""

    paused: bool = False
    blocker: str | None = None
    note: str | None = None
    #: The workflow's schedule is paused but a manual run still runs (a Prefect deployment): normal in
    #: stage ``airflow``, a disagreement in ``shadow``/``prefect``; the caller knows the stage, not us.
    schedule_paused: bool = False


#: A target is a lower-case schema name (the workloads' rule, ``pipelines.common.targets``, checked equal
#: by the unit tests): refused before it is set anywhere a scheduled run would read it.
TARGET_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"


@dataclass(frozen=True)
class ScheduleState:
    """What decides where a workflow's next scheduled run goes, as one backend holds it now.

    ``paused``: its schedule is paused (an Airflow DAG: no run starts at all; a Prefect deployment: no
    scheduled run, manual runs still run). ``target``: the default target moved by the bridge (Airflow:
    the Variable ``bridge_target__<dag_id>``; Prefect: the deployment's ``target`` parameter), None when
    the workflow's own default applies. ``parameters``: the deployment's parameters (Airflow: none).
    ``schedules``: the server's own schedule payloads (Prefect: each with ``active``, ``slug`` and its own
    ``parameters``; Airflow: the DAG's timetable and next run)."""

    paused: bool
    target: str | None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    schedules: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Observation:
    """What one backend did in one run."""

    ref: RunRef
    state: RunState
    tasks: Mapping[str, TaskObservation]
    result: Any
    start: datetime | None
    end: datetime | None
    error: str | None
    url: str
    native_state: str = ""  # the server's own word for the run's state (success, COMPLETED, CRASHED...)

    @property
    def duration(self) -> float | None:
        return seconds_between(self.start, self.end)


Progress = Callable[[RunStatus, float], None]


@runtime_checkable
class Backend(Protocol):
    """One orchestrator behind one interface."""

    name: str

    def list_workflows(self) -> list[Workflow]: ...

    def get_workflow(self, workflow_id: str) -> Workflow: ...

    def trigger(
        self, workflow_id: str, conf: Mapping[str, Any], correlation_id: str, at: datetime | None = None
    ) -> RunRef:
        """``at``: run as if the scheduler had fired at that instant (Airflow: logical_date, Prefect:
        a flow run scheduled at it)."""
        ...

    def get_run(self, ref: RunRef) -> RunStatus: ...

    def find_run(self, native_id: str) -> RunRef: ...

    def wait(self, ref: RunRef, timeout: float, progress: Progress | None = None) -> RunStatus: ...

    def observe(self, ref: RunRef) -> Observation: ...

    def pause(self, workflow_id: str) -> None: ...

    def resume(self, workflow_id: str) -> None: ...

    def readiness(self, workflow_id: str) -> Readiness:
        """Can a new run of ``workflow_id`` start now? Asked before triggering, never after."""
        ...

    def schedule_state(self, workflow_id: str) -> ScheduleState:
        """Paused or not, the moved default target, parameters and schedules, read from the server now."""
        ...

    def default_target(self, workflow_id: str) -> str | None:
        """The target a run writes to when its conf names none, if the bridge moved it; else None."""
        ...

    def set_default_target(self, workflow_id: str, target: str | None) -> None:
        """Move the target of the runs whose conf names none (the scheduled ones) to ``target``; None: back
        to the workflow's own default. Idempotent; a target that is not a schema name is refused."""
        ...

    def publish(self, ref: RunRef, text: str, key: str) -> None:
        """Show ``text`` (the bridge's verdict, markdown) on the run's own page in this system's UI:
        Airflow: the DAG run's note (the bridge's block, marked by ``key``; a person's note stays);
        Prefect: a markdown artifact of key ``key`` on the flow run (the Artifacts page keeps a history)."""
        ...


def check_target(target: str) -> str:
    """``target`` if it is a schema name a run may write to; UsageError otherwise."""
    import re

    if not re.fullmatch(TARGET_PATTERN, target) or target.startswith("pg_") or target == "information_schema":
        raise UsageError(
            f"invalid target {target!r}: expected a lower-case schema name matching {TARGET_PATTERN}"
        )
    return target


def poll_until_final(
    get_run: Callable[[RunRef], RunStatus],
    ref: RunRef,
    timeout: float,
    progress: Progress | None = None,
    interval: float = 1.0,
) -> RunStatus:
    """Poll ``get_run`` until the run is final; call ``progress`` each poll; raise WaitTimeoutError after ``timeout``."""
    started = time.monotonic()
    while True:
        status = get_run(ref)
        elapsed = time.monotonic() - started
        if progress:
            progress(status, elapsed)
        if status.state.is_final:
            return status
        if elapsed >= timeout:
            run = run_label(ref)
            raise WaitTimeoutError(
                f"run {run} of {ref.workflow_id} is still {status.state.value} after {timeout:.0f} s; it goes "
                f"on without us: follow it with `bridge status {run} --wait` or at {ref.url or 'the UI'}"
            ).about(run)
        time.sleep(min(interval, max(0.05, timeout - elapsed)))


def run_label(ref: RunRef) -> str:
    """A run id a person can paste back: airflow:DAG/RUN or prefect:FLOW_RUN_UUID."""
    return f"airflow:{ref.workflow_id}/{ref.run_id}" if ref.backend == "airflow" else f"prefect:{ref.run_id}"


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """How long from ``start`` to ``end``; None unless both are known."""
    return (end - start).total_seconds() if start and end else None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


#: Airflow 3's limit on a DAG run's note (``DAGRunPatchBody.note`` maxLength, 422 above it).
NOTE_LIMIT = 1000


def merge_note(existing: str | None, block: str, marker: str, limit: int = NOTE_LIMIT) -> str:
    """A DAG run's note with the bridge's ``block`` (its first line ``marker``) in place of the bridge's
    previous one; what someone else wrote (above the marker) is kept, cut first when the note would pass
    ``limit`` characters; the block itself is cut last, with an ellipsis."""
    own = block if block.startswith(marker) else f"{marker}\n{block}"
    kept = (existing or "").split(marker, 1)[0].rstrip()
    if len(own) > limit:
        return own[: limit - 1] + "…"
    room = limit - len(own) - 2
    if kept and room > 1:
        kept = kept if len(kept) <= room else kept[: room - 1] + "…"
        return f"{kept}\n\n{own}"
    return own
