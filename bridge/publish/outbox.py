"""The outbox: every delivery the bridge publishes (a note, an artifact, an event, an alert), kept in the
history store with what became of it, and each workflow's last seen gate states.

A delivery is written ``pending`` in the same moment its comparison (or stage change) is recorded, then
claimed by one sender (``sending``, with a claim that expires so a crashed sender's rows are taken up
again) and finished ``sent`` or ``failed`` with the reason and the number of tries. A row still pending
when its process exits (the bounded wait at exit ran out) is sent by the next sender of any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bridge.store import Tables

CLAIM_TTL = timedelta(minutes=2)
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

meta = sa.MetaData()
deliveries = sa.Table(
    "deliveries",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "kind", sa.String(32), nullable=False
    ),  # airflow_note | prefect_artifact | prefect_event | webhook | command
    sa.Column("destination", sa.String(250), nullable=False),  # a receiver's name, never its URL
    sa.Column("event", sa.String(64), nullable=False),  # a verdict, gate_red, stage_change
    sa.Column("workflow", sa.String(250), nullable=False, index=True),
    sa.Column("comparison_id", sa.Integer),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("tries", sa.Integer, nullable=False, default=0),
    sa.Column("reason", sa.Text),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column("claimed_by", sa.String(250)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
)
gate_states = sa.Table(
    "gate_states",
    meta,
    sa.Column("workflow", sa.String(250), primary_key=True),
    sa.Column("gate", sa.String(64), primary_key=True),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Delivery:
    """One row of the outbox."""

    kind: str
    destination: str
    event: str
    workflow: str
    payload: Mapping[str, Any]
    comparison_id: int | None = None
    id: int | None = None
    status: str = PENDING
    tries: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        keys = (
            "id",
            "kind",
            "destination",
            "event",
            "workflow",
            "comparison_id",
            "status",
            "tries",
            "reason",
        )
        return {k: getattr(self, k) for k in keys}


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row.kind,
        row.destination,
        row.event,
        row.workflow,
        row.payload,
        row.comparison_id,
        int(row.id),
        row.status,
        int(row.tries or 0),
        row.reason,
    )


class Outbox(Tables):
    """The deliveries and gate states of one history store."""

    meta = meta
    what = "the publishing outbox"

    def add(self, items: Sequence[Delivery]) -> list[int]:
        """Queue ``items`` as pending; return their ids."""
        now = datetime.now(UTC)
        ids: list[int] = []
        with self._tx() as conn:
            for d in items:
                key = conn.execute(
                    deliveries.insert().values(
                        created=now,
                        kind=d.kind,
                        destination=d.destination,
                        event=d.event,
                        workflow=d.workflow,
                        comparison_id=d.comparison_id,
                        payload=dict(d.payload),
                        status=PENDING,
                        tries=0,
                    )
                ).inserted_primary_key
                assert key is not None
                ids.append(int(key[0]))
        return ids

    def claim(self, owner: str, limit: int = 50) -> list[Delivery]:
        """Take up to ``limit`` deliveries to send: pending ones, and those whose sender's claim expired."""
        now = datetime.now(UTC)
        open_ = sa.or_(
            deliveries.c.status == PENDING,
            sa.and_(deliveries.c.status == SENDING, deliveries.c.claimed_until < now),
        )
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(deliveries.c.id).where(open_).order_by(deliveries.c.id).limit(limit))
            candidates = [int(i) for i in ids.scalars()]
        taken: list[int] = []
        for cid in candidates:
            with self._tx() as conn:
                got = conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == cid)
                    .where(open_)
                    .values(status=SENDING, claimed_by=owner, claimed_until=now + CLAIM_TTL)
                ).rowcount
            if got:
                taken.append(cid)
        if not taken:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries).where(deliveries.c.id.in_(taken)).order_by(deliveries.c.id)
            )
            return [_delivery(r) for r in rows]

    def finish(self, delivery_id: int, ok: bool, tries: int, reason: str | None) -> None:
        with self._tx() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(
                    status=SENT if ok else FAILED,
                    tries=tries,
                    reason=reason,
                    done_at=datetime.now(UTC),
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    def list(self, workflow: str | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries newest first (of one workflow, or all)."""
        query = sa.select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if workflow is not None:
            query = query.where(deliveries.c.workflow == workflow)
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query)]

    def gates(self, workflow: str) -> dict[str, bool]:
        """The gate states seen last time ``workflow``'s gates were evaluated (empty: never)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(gate_states.c.gate, gate_states.c.ok).where(gate_states.c.workflow == workflow)
            )
            return {g: bool(ok) for g, ok in rows}

    def save_gates(self, workflow: str, states: Mapping[str, bool]) -> None:
        now = datetime.now(UTC)
        with self._tx() as conn:
            conn.execute(gate_states.delete().where(gate_states.c.workflow == workflow))
            if states:
                conn.execute(
                    gate_states.insert(),
                    [{"workflow": workflow, "gate": g, "ok": ok, "at": now} for g, ok in states.items()],
                )
