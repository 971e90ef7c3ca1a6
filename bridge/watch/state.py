"""The watcher's state in the history store: each watched workflow's cursor, and the run markers it takes.

``watch_cursors``: per workflow, the instant from which its runs are still to be settled (every instant
before it was compared or recorded missing). ``watch_markers``: where each targets' database stood at a
cycle (PostgreSQL's next transaction id), so a scheduled window's table outputs (a queue worker's outcomes,
keyed by message id) are compared over the rows written since the last marker before the window's instant.

Which pairs are done is not kept here: a scheduled comparison's correlation id names its workflow and
instant (:func:`pair_id`) and is unique in the store, so the comparison itself is the mark: recorded and
marked in one transaction, never compared twice even by two watchers at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from bridge.compare.targets import Marker
from bridge.store import Tables, comparisons

MARKERS_KEPT = 200  # per database: a cycle's marker is needed until its window is compared

meta = sa.MetaData()
watch_cursors = sa.Table(
    "watch_cursors",
    meta,
    sa.Column("workflow", sa.String(250), primary_key=True),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)
watch_markers = sa.Table(
    "watch_markers",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url_key", sa.String(64), nullable=False, index=True),
    sa.Column("taken", sa.DateTime(timezone=True), nullable=False),
    sa.Column("dialect", sa.String(32), nullable=False),
    sa.Column("xid", sa.BigInteger),
)


def pair_id(workflow: str, instant: datetime) -> str:
    """The correlation id of the scheduled comparison of ``workflow`` at ``instant``."""
    return f"scheduled-{workflow}-{utc(instant):%Y%m%dT%H%M%SZ}"


def utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def url_key(url: str) -> str:
    """A database URL as a key that holds no secret (its hash)."""
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:32]


class WatchState(Tables):
    """The watcher's tables of one history store."""

    meta = meta
    what = "the watcher's tables"

    def cursors(self) -> dict[str, datetime]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(watch_cursors.c.workflow, watch_cursors.c.since)).all()
        return {w: utc(since) for w, since in rows}

    def save_cursors(self, cursors: Mapping[str, datetime]) -> None:
        """Set each workflow's cursor (one transaction): one UPDATE per distinct cursor, so idle
        workflows (all at ``now - grace``) cost one statement together, and an INSERT for new ones."""
        if not cursors:
            return
        now = datetime.now(UTC)
        by_since: dict[datetime, list[str]] = {}
        for workflow, since in cursors.items():
            by_since.setdefault(utc(since), []).append(workflow)
        with self._tx() as conn:
            known = {w for (w,) in conn.execute(sa.select(watch_cursors.c.workflow))}
            new = [
                {"workflow": w, "since": utc(s), "updated": now} for w, s in cursors.items() if w not in known
            ]
            if new:
                conn.execute(watch_cursors.insert(), new)
            for since, names in by_since.items():
                old = [w for w in names if w in known]
                for i in range(0, len(old), 500):
                    conn.execute(
                        watch_cursors.update()
                        .where(watch_cursors.c.workflow.in_(old[i : i + 500]))
                        .values(since=since, updated=now)
                    )

    def done(self, ids: Iterable[str]) -> set[str]:
        """Which of these pair ids already have a comparison in the store (one query per 500)."""
        wanted = sorted(set(ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), 500):
                col = comparisons.c.correlation_id
                found.update(conn.execute(sa.select(col).where(col.in_(wanted[i : i + 500]))).scalars())
        return found

    def add_marker(self, url: str, taken: datetime, marker: Marker) -> None:
        key = url_key(url)
        with self._tx() as conn:
            conn.execute(
                watch_markers.insert().values(
                    url_key=key, taken=utc(taken), dialect=marker.dialect, xid=marker.xid
                )
            )
            old = (
                sa.select(watch_markers.c.id)
                .where(watch_markers.c.url_key == key)
                .order_by(watch_markers.c.id.desc())
                .offset(MARKERS_KEPT)
            )
            stale = list(conn.execute(old).scalars())
            if stale:
                conn.execute(watch_markers.delete().where(watch_markers.c.id.in_(stale)))

    def marker_before(self, url: str, instant: datetime) -> Marker | None:
        """The last marker of ``url`` taken before ``instant`` (before both runs of it started), if any."""
        query = (
            sa.select(watch_markers.c.dialect, watch_markers.c.xid)
            .where(watch_markers.c.url_key == url_key(url), watch_markers.c.taken <= utc(instant))
            .order_by(watch_markers.c.taken.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Marker(row[0], None if row[1] is None else int(row[1])) if row else None
