"""The shadow history: runs, observations, comparisons, differences, table diffs, noise (each workflow's
stage and its audit live beside them: bridge.cutover.ledger).

SQLAlchemy Core over an SQLite file by default (``<BRIDGE_HOME>/history.db``) or PostgreSQL by URL
(``BRIDGE_STORE_URL`` or ``[store] url``). The schema is versioned: ``schema_version`` holds the version,
``MIGRATIONS`` bring an older store up to date, a newer one is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bridge.compare.model import SET_ASIDE, Calibration, NoiseSpread
from bridge.errors import ConfigError, StoreError

SCHEMA_VERSION = 5

meta = sa.MetaData()
schema_version = sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
comparisons = sa.Table(
    "comparisons",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.String(250), nullable=False, index=True),
    sa.Column("correlation_id", sa.String(250), nullable=False, unique=True),
    sa.Column("verdict", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shadow_wall_s", sa.Float),
    sa.Column("conf", sa.JSON),
    sa.Column("summary", sa.Text),  # v3: the verdict line, "mismatch (2 values, 5 rows in t, 3 ignored)"
    sa.Column("deployment", sa.String(500)),  # v3: the Prefect side's deployment
    sa.Column("scheduled_at", sa.DateTime(timezone=True)),  # v3: the schedule instant (--at), if any
    # v4: why it was made, a bridge.shadow.Origin: manual | scheduled | replay | calibration
    sa.Column("origin", sa.String(16), nullable=False, server_default="manual"),
)


def _of_a_comparison(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table of rows that belong to one comparison (an id, the comparison's id, then ``columns``)."""
    return sa.Table(
        name,
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "comparison_id", sa.Integer, sa.ForeignKey("comparisons.id", ondelete="CASCADE"), index=True
        ),
        *columns,
    )


observations = _of_a_comparison(
    "observations",
    sa.Column("side", sa.String(16), nullable=False),  # airflow | prefect
    sa.Column("run", sa.String(500)),
    sa.Column("state", sa.String(32)),
    sa.Column("start", sa.DateTime(timezone=True)),
    sa.Column("end", sa.DateTime(timezone=True)),
    sa.Column("duration_s", sa.Float),
    sa.Column("elapsed_s", sa.Float),  # v2: trigger to observed end, as the caller waited
    sa.Column("url", sa.String(1000)),
    sa.Column("error", sa.Text),
    sa.Column("document", sa.JSON),  # state, tasks, result as observed (before normalization)
    sa.Column("task_times", sa.JSON),  # v5: per task, its own name: {duration_s, id} (never compared)
)
differences = _of_a_comparison(
    "differences",
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("airflow", sa.JSON),
    sa.Column("prefect", sa.JSON),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("note", sa.Text),
)
table_diffs = _of_a_comparison(
    "table_diffs",
    sa.Column("table_name", sa.String(250), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)
noise = sa.Table(
    "noise",
    meta,
    sa.Column("workflow", sa.String(250), primary_key=True),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("runs", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("abs_spread", sa.Float),  # v3: the largest spread seen between controls; NULL: "varies"
    sa.Column("rel_spread", sa.Float),
)
calibrations = sa.Table(  # v3: every calibration kept, refused ones are not recorded
    "calibrations",
    meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.String(250), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)


def _v1_to_v2(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE observations ADD COLUMN elapsed_s FLOAT"))


def _v2_to_v3(conn: sa.Connection) -> None:
    """Sized noise and the verdict line. Noise recorded before v3 has no size: it is dropped, so a
    shadow run after the upgrade counts every difference until the workflow is calibrated again."""
    conn.execute(sa.text("ALTER TABLE comparisons ADD COLUMN summary TEXT"))
    conn.execute(sa.text("ALTER TABLE comparisons ADD COLUMN deployment VARCHAR(500)"))
    conn.execute(sa.text("ALTER TABLE comparisons ADD COLUMN scheduled_at TIMESTAMP"))
    conn.execute(sa.text("ALTER TABLE noise ADD COLUMN abs_spread FLOAT"))
    conn.execute(sa.text("ALTER TABLE noise ADD COLUMN rel_spread FLOAT"))
    conn.execute(noise.delete())


def _v3_to_v4(conn: sa.Connection) -> None:
    """Each comparison's origin. Before v4 only two kinds were made: a shadow run as if scheduled at an
    instant (``--at``, ``shadow-replay``: ``scheduled_at`` set) is a ``replay``, any other ``manual``."""
    conn.execute(sa.text("ALTER TABLE comparisons ADD COLUMN origin VARCHAR(16) NOT NULL DEFAULT 'manual'"))
    conn.execute(comparisons.update().where(comparisons.c.scheduled_at.is_not(None)).values(origin="replay"))


def _v4_to_v5(conn: sa.Connection) -> None:
    """Each task's time and id in its system (the dashboard's side by side); older rows have none."""
    conn.execute(sa.text("ALTER TABLE observations ADD COLUMN task_times JSON"))


# version N -> N+1. A fresh store is created at SCHEMA_VERSION directly (create_all adds new tables).
MIGRATIONS: dict[int, Any] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}


def db_reason(exc: Exception) -> str:
    """A database error's own first line (the driver's, not SQLAlchemy's wrapping)."""
    return str(getattr(exc, "orig", exc)).splitlines()[0]


@contextmanager
def transaction(engine: sa.Engine, what: str) -> Iterator[sa.Connection]:
    """One transaction on ``engine``; a database error becomes one StoreError line naming ``what``."""
    try:
        with engine.begin() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot write {what} at {where}: {db_reason(exc)}") from exc


class Tables:
    """Tables of their own in one history store (the stage ledger, the watcher's state): created on first
    use; every write one transaction, whose failure is one StoreError line naming ``what``."""

    meta: sa.MetaData
    what = "tables"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        try:
            self.meta.create_all(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare {self.what}: {db_reason(exc)}") from exc

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        with transaction(self.engine, self.what) as conn:
            yield conn


def default_url() -> str:
    from bridge.config import bridge_home

    home = bridge_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'history.db'}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


BUSY_TIMEOUT_S = 60.0


class Store:
    """The history, opened (and created or migrated) on construction."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        try:
            # SQLite: a writer waits up to BUSY_TIMEOUT_S for another's lock (a watcher, a report, a second
            # shadow) instead of pysqlite's 5 s, so a verdict is stored late rather than lost.
            args = {"timeout": BUSY_TIMEOUT_S} if self.url.startswith("sqlite") else {}
            self.engine = sa.create_engine(self.url, future=True, connect_args=args)
            self._prepare()
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"store URL is not usable: {exc}") from exc
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open the history store: {str(exc.orig).splitlines()[0]}") from exc

    def _prepare(self) -> None:
        meta.create_all(self.engine)
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(schema_version.c.version)).scalar()
            if found is None:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                return
            if found > SCHEMA_VERSION:
                raise ConfigError(
                    f"the history store at {self.engine.url.render_as_string(hide_password=True)} "
                    f"has schema version {found}, newer than this bridge's {SCHEMA_VERSION}: upgrade bridge"
                )
            for version in range(found, SCHEMA_VERSION):
                MIGRATIONS[version](conn)
            conn.execute(schema_version.update().values(version=SCHEMA_VERSION))

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        """One transaction; a database error becomes one StoreError line (nothing half-written)."""
        with transaction(self.engine, "the history store") as conn:
            yield conn

    # -- writes ---------------------------------------------------------------------------------
    def record(self, comparison: Any) -> int:
        """Store one shadow comparison (a bridge.shadow.ShadowResult, with its origin) in one transaction;
        return its id. Callers go through ``bridge.shadow.run_and_record`` (or ``record``)."""
        with self._tx() as conn:
            inserted = conn.execute(
                comparisons.insert().values(
                    workflow=comparison.workflow,
                    correlation_id=comparison.correlation_id,
                    verdict=comparison.verdict,
                    at=datetime.now(UTC),
                    shadow_wall_s=comparison.wall_s,
                    conf=_jsonable(comparison.conf),
                    summary=comparison.verdict_line,
                    deployment=comparison.deployment or None,
                    scheduled_at=comparison.at,
                    origin=comparison.origin,
                )
            ).inserted_primary_key
            assert inserted is not None  # an INSERT of one row always has its key
            cid = inserted[0]
            for side in comparison.sides():
                conn.execute(observations.insert().values(comparison_id=cid, **_jsonable_side(side)))
            if comparison.differences:
                conn.execute(
                    differences.insert(),
                    [{"comparison_id": cid, **_jsonable(d.to_dict())} for d in comparison.differences],
                )
            for td in comparison.tables:
                conn.execute(
                    table_diffs.insert().values(
                        comparison_id=cid, table_name=td.table, detail=_jsonable(td.to_dict())
                    )
                )
        return int(cid)

    def record_calibration(self, calibration: Calibration) -> None:
        """Keep a calibration and make its noise the workflow's current noise (one transaction)."""
        c = calibration
        with self._tx() as conn:
            conn.execute(calibrations.insert().values(workflow=c.workflow, at=c.at, detail=c.to_dict()))
            conn.execute(noise.delete().where(noise.c.workflow == c.workflow))
            if c.noise:
                conn.execute(
                    noise.insert(),
                    [
                        {
                            "workflow": c.workflow,
                            "path": n.path,
                            "runs": c.runs,
                            "at": c.at,
                            "abs_spread": n.abs_spread,
                            "rel_spread": n.rel_spread,
                        }
                        for n in c.noise
                    ],
                )

    # -- reads ----------------------------------------------------------------------------------
    def noise_paths(self, workflow: str) -> list[NoiseSpread]:
        """The workflow's current noise: each path with the spread its last calibration measured."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(noise).where(noise.c.workflow == workflow).order_by(noise.c.path))
            return [NoiseSpread(r.path, r.abs_spread, r.rel_spread) for r in rows]

    def calibrations(self, workflow: str | None = None, limit: int = 20) -> list[Calibration]:
        """Calibrations kept, newest first (of one workflow, or all)."""
        query = sa.select(calibrations.c.detail).order_by(calibrations.c.id.desc()).limit(limit)
        if workflow is not None:
            query = query.where(calibrations.c.workflow == workflow)
        with self.engine.connect() as conn:
            details = conn.execute(query).scalars().all()
        return [
            Calibration(
                d["workflow"],
                datetime.fromisoformat(d["at"]),
                int(d["runs"]),
                tuple(d["controls"]),
                tuple(d["fingerprints"]),
                tuple(NoiseSpread(n["path"], n["abs_spread"], n["rel_spread"]) for n in d["noise"]),
            )
            for d in details
        ]

    def workflows(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(sa.select(comparisons.c.workflow).distinct()))

    def history(self, workflow: str, limit: int = 50) -> list[dict[str, Any]]:
        """Comparisons of ``workflow``, newest first (each row's columns, its ``origin`` among them), each
        with its two observations."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(comparisons)
                    .where(comparisons.c.workflow == workflow)
                    .order_by(comparisons.c.id.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
            ids = [r["id"] for r in rows]
            obs = (
                conn.execute(sa.select(observations).where(observations.c.comparison_id.in_(ids)))
                .mappings()
                .all()
            )
            diff_count: dict[int, int] = dict(
                conn.execute(
                    sa.select(differences.c.comparison_id, sa.func.count())
                    .where(differences.c.comparison_id.in_(ids))
                    .where(differences.c.kind.notin_(SET_ASIDE))
                    .group_by(differences.c.comparison_id)
                ).all()
            )
        by_cmp: dict[int, dict[str, Any]] = {}
        for o in obs:
            by_cmp.setdefault(o["comparison_id"], {})[o["side"]] = dict(o)
        return [
            {**dict(r), "sides": by_cmp.get(r["id"], {}), "differences": diff_count.get(r["id"], 0)}
            for r in rows
        ]

    def details(self, comparison_id: int) -> dict[str, Any]:
        """A comparison's origin, differences and table diffs (origin None: no such comparison)."""
        with self.engine.connect() as conn:
            origin = conn.execute(
                sa.select(comparisons.c.origin).where(comparisons.c.id == comparison_id)
            ).scalar()
            diffs = (
                conn.execute(
                    sa.select(differences)
                    .where(differences.c.comparison_id == comparison_id)
                    .order_by(differences.c.id)
                )
                .mappings()
                .all()
            )
            tables = (
                conn.execute(
                    sa.select(table_diffs.c.detail)
                    .where(table_diffs.c.comparison_id == comparison_id)
                    .order_by(table_diffs.c.id)
                )
                .scalars()
                .all()
            )
        return {
            "origin": origin,
            "differences": [{k: d[k] for k in ("path", "airflow", "prefect", "kind", "note")} for d in diffs],
            "tables": list(tables),
        }


def _jsonable_side(side: Any) -> dict[str, Any]:
    return {
        "side": side.side,
        "run": side.run,
        "state": side.state,
        "start": side.start,
        "end": side.end,
        "duration_s": side.duration_s,
        "elapsed_s": side.elapsed_s,
        "url": side.url,
        "error": side.error,
        "document": _jsonable(side.document),
        "task_times": _jsonable(getattr(side, "task_times", None)),
    }
