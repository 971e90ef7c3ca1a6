"""Where a workflow's stage is true: two tables in the history store, beside its comparisons.

``stages`` holds each workflow's current stage (and the switch lock); ``stage_audit`` every change: from,
to, when, who, why, the comparison ids that were its evidence, whether it was forced, and the steps the
switch took. A workflow the store has never seen is in the stage its ``bridge.toml`` entry names: the
file gives the starting point, the store wins from the first recorded change on.

The lock is a row in the store, not a file: two switches of one workflow at once, one wins; the other is
told who holds it. A lock left by a crashed switch expires (``LOCK_TTL``).
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bridge.config import STAGES
from bridge.errors import UsageError
from bridge.store import Tables

LOCK_TTL = timedelta(minutes=15)

meta = sa.MetaData()
stages = sa.Table(
    "stages",
    meta,
    sa.Column("workflow", sa.String(250), primary_key=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("change_id", sa.Integer),
    sa.Column("lock_owner", sa.String(250)),
    sa.Column("lock_until", sa.DateTime(timezone=True)),
)
stage_audit = sa.Table(
    "stage_audit",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.String(250), nullable=False, index=True),
    sa.Column("from_stage", sa.String(32), nullable=False),
    sa.Column("to_stage", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(250), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),  # comparison ids
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),  # what the switch did, one line each
)


class SwitchLockedError(UsageError):
    """Another switch of the same workflow holds the lock (exit 2: try again once it is done)."""


def default_actor() -> str:
    """Who changes a stage when ``--actor`` is not given: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class StageChange:
    """One audited change of a workflow's stage."""

    workflow: str
    from_stage: str
    to_stage: str
    at: datetime
    actor: str
    reason: str
    evidence: tuple[int, ...] = ()
    forced: bool = False
    steps: tuple[str, ...] = ()
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflow": self.workflow,
            "from": self.from_stage,
            "to": self.to_stage,
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "forced": self.forced,
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class StageRecord:
    """A workflow's current stage as the store holds it."""

    workflow: str
    stage: str
    since: datetime
    last_change: StageChange | None = field(default=None)


class Ledger(Tables):
    """The stage tables of one history store."""

    meta = meta
    what = "the stage tables"

    # -- reads ----------------------------------------------------------------------------------
    def current(self, workflow: str) -> StageRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(stages).where(stages.c.workflow == workflow)).mappings().first()
        if row is None:
            return None
        changes = self.history(workflow, limit=1)
        return StageRecord(workflow, row["stage"], _utc(row["since"]), changes[-1] if changes else None)

    def all_current(self) -> dict[str, StageRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(stages.c.workflow, stages.c.stage, stages.c.since)).all()
        return {w: StageRecord(w, s, _utc(t)) for w, s, t in rows}

    def history(self, workflow: str | None = None, limit: int | None = None) -> list[StageChange]:
        """Changes oldest first (the newest ``limit`` of them)."""
        query = sa.select(stage_audit).order_by(stage_audit.c.id.desc())
        if workflow is not None:
            query = query.where(stage_audit.c.workflow == workflow)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        return [_change(r) for r in reversed(rows)]

    # -- writes ---------------------------------------------------------------------------------
    def record(
        self,
        workflow: str,
        from_stage: str,
        to_stage: str,
        *,
        actor: str | None = None,
        reason: str = "",
        evidence: Sequence[int] = (),
        forced: bool = False,
        steps: Sequence[str] = (),
    ) -> StageChange:
        """Set ``workflow``'s stage and audit the change, in one transaction."""
        if to_stage not in STAGES:
            raise UsageError(f"stage must be one of {', '.join(STAGES)}, not {to_stage!r}")
        change = StageChange(
            workflow,
            from_stage,
            to_stage,
            datetime.now(UTC),
            actor or default_actor(),
            reason,
            tuple(evidence),
            forced,
            tuple(steps),
        )
        with self._tx() as conn:
            inserted = conn.execute(
                stage_audit.insert().values(
                    workflow=workflow,
                    from_stage=from_stage,
                    to_stage=to_stage,
                    at=change.at,
                    actor=change.actor,
                    reason=reason,
                    evidence=list(change.evidence),
                    forced=forced,
                    steps=list(change.steps),
                )
            ).inserted_primary_key
            new_id = int(inserted[0]) if inserted else None
            self._ensure_row(conn, workflow, to_stage)
            conn.execute(
                stages.update()
                .where(stages.c.workflow == workflow)
                .values(stage=to_stage, since=change.at, change_id=new_id)
            )
        return dataclasses.replace(change, id=new_id)

    @contextmanager
    def locked(self, workflow: str, owner: str, initial_stage: str) -> Iterator[None]:
        """Hold ``workflow``'s switch lock for the block; SwitchLockedError if another switch holds it."""
        now = datetime.now(UTC)
        with self._tx() as conn:
            self._ensure_row(conn, workflow, initial_stage)
            taken = conn.execute(
                stages.update()
                .where(stages.c.workflow == workflow)
                .where(sa.or_(stages.c.lock_owner.is_(None), stages.c.lock_until < now))
                .values(lock_owner=owner, lock_until=now + LOCK_TTL)
            ).rowcount
            if not taken:
                row = conn.execute(
                    sa.select(stages.c.lock_owner, stages.c.lock_until).where(stages.c.workflow == workflow)
                ).first()
        if not taken:
            holder, until = row or (None, None)
            raise SwitchLockedError(
                f"another switch of {workflow} is under way ({holder}, lock until "
                f"{_utc(until).strftime('%H:%M:%S') if until else '?'} UTC): wait for it to finish, then rerun"
            )
        try:
            yield
        finally:
            with self._tx() as conn:
                conn.execute(
                    stages.update()
                    .where(stages.c.workflow == workflow)
                    .where(stages.c.lock_owner == owner)
                    .values(lock_owner=None, lock_until=None)
                )

    def _ensure_row(self, conn: sa.Connection, workflow: str, stage: str) -> None:
        """The workflow's row, created at ``stage`` (its bridge.toml stage) the first time it is touched."""
        exists = conn.execute(sa.select(stages.c.workflow).where(stages.c.workflow == workflow)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        stages.insert().values(workflow=workflow, stage=stage, since=datetime.now(UTC))
                    )
            except sa.exc.IntegrityError:
                pass  # created by a concurrent switch in between: theirs stands


def _change(row: Any) -> StageChange:
    return StageChange(
        workflow=row["workflow"],
        from_stage=row["from_stage"],
        to_stage=row["to_stage"],
        at=_utc(row["at"]),
        actor=row["actor"],
        reason=row["reason"],
        evidence=tuple(row["evidence"] or ()),
        forced=bool(row["forced"]),
        steps=tuple(row["steps"] or ()),
        id=int(row["id"]),
    )


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
