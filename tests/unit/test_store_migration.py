"""A version-3 history store (as a bridge before comparison origins wrote it), opened by this bridge:
every row kept, each comparison given its origin (``replay`` where a schedule instant was recorded,
``manual`` otherwise), and new comparisons recorded with theirs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridge import shadow
from bridge.store import SCHEMA_VERSION, Store
from tests.unit.test_shadow_logic import Fake, _backends

# The v3 schema as SQLAlchemy created it on SQLite (comparisons and the tables the migration must keep).
V3_DDL = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE comparisons (
    id INTEGER NOT NULL PRIMARY KEY, workflow VARCHAR(250) NOT NULL, correlation_id VARCHAR(250) NOT NULL,
    verdict VARCHAR(32) NOT NULL, at DATETIME NOT NULL, shadow_wall_s FLOAT, conf JSON, summary TEXT,
    deployment VARCHAR(500), scheduled_at DATETIME, UNIQUE (correlation_id)
);
CREATE INDEX ix_comparisons_workflow ON comparisons (workflow);
CREATE TABLE observations (
    id INTEGER NOT NULL PRIMARY KEY,
    comparison_id INTEGER REFERENCES comparisons (id) ON DELETE CASCADE,
    side VARCHAR(16) NOT NULL, run VARCHAR(500), state VARCHAR(32), start DATETIME, "end" DATETIME,
    duration_s FLOAT, elapsed_s FLOAT, url VARCHAR(1000), error TEXT, document JSON
);
CREATE TABLE differences (
    id INTEGER NOT NULL PRIMARY KEY,
    comparison_id INTEGER REFERENCES comparisons (id) ON DELETE CASCADE,
    path TEXT NOT NULL, airflow JSON, prefect JSON, kind VARCHAR(32) NOT NULL, note TEXT
);
CREATE TABLE table_diffs (
    id INTEGER NOT NULL PRIMARY KEY,
    comparison_id INTEGER REFERENCES comparisons (id) ON DELETE CASCADE,
    table_name VARCHAR(250) NOT NULL, detail JSON NOT NULL
);
CREATE TABLE noise (
    workflow VARCHAR(250) NOT NULL, path VARCHAR(1000) NOT NULL, runs INTEGER NOT NULL, at DATETIME NOT NULL,
    abs_spread FLOAT, rel_spread FLOAT, PRIMARY KEY (workflow, path)
);
CREATE TABLE calibrations (
    id INTEGER NOT NULL PRIMARY KEY, workflow VARCHAR(250) NOT NULL, at DATETIME NOT NULL, detail JSON NOT NULL
);
CREATE TABLE stage_changes (
    id INTEGER NOT NULL PRIMARY KEY, workflow VARCHAR(250) NOT NULL, from_stage VARCHAR(32),
    to_stage VARCHAR(32) NOT NULL, at DATETIME NOT NULL, reason TEXT
);
INSERT INTO schema_version VALUES (3);
INSERT INTO comparisons VALUES
    (1, 'wf', 'c-manual', 'match', '2025-01-01 10:00:00.000000', 1.5, '{"x": 1}', 'match (no differences)',
     'wf-flow/wf', NULL),
    (2, 'wf', 'c-at', 'mismatch', '2025-01-02 10:00:00.000000', 2.5, '{}', 'mismatch (1 value)',
     'wf-flow/wf', '2024-12-31 08:30:00.000000');
INSERT INTO observations (comparison_id, side, run, state, duration_s) VALUES
    (1, 'airflow', 'wf/r1', 'success', 1.0), (1, 'prefect', 'wf-flow/wf/r1', 'success', 1.2),
    (2, 'airflow', 'wf/r2', 'success', 2.0), (2, 'prefect', 'wf-flow/wf/r2', 'success', 2.2);
INSERT INTO differences (comparison_id, path, airflow, prefect, kind, note) VALUES
    (2, 'result.total', '1', '2', 'changed', NULL);
INSERT INTO noise VALUES ('wf', 'result.took', 3, '2025-01-01 09:00:00.000000', 0.5, 0.1);
INSERT INTO stage_changes (workflow, from_stage, to_stage, at, reason) VALUES
    ('wf', 'airflow', 'shadow', '2025-01-01 08:00:00.000000', 'try it');
"""


def _v3_store(tmp_path: Path) -> str:
    path = tmp_path / "history.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V3_DDL)
    return f"sqlite:///{path}"


def test_a_v3_store_keeps_its_rows_and_gains_origins(tmp_path: Path) -> None:
    url = _v3_store(tmp_path)
    store = Store(url)
    with sqlite3.connect(tmp_path / "history.db") as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert SCHEMA_VERSION == 5
    newest, oldest = store.history("wf")
    assert (oldest["correlation_id"], oldest["origin"], oldest["verdict"]) == ("c-manual", "manual", "match")
    assert oldest["conf"] == {"x": 1} and oldest["summary"] == "match (no differences)"
    assert (newest["correlation_id"], newest["origin"], newest["differences"]) == ("c-at", "replay", 1)
    assert newest["sides"]["prefect"]["run"] == "wf-flow/wf/r2"
    assert store.details(2)["origin"] == "replay" and store.details(1)["origin"] == "manual"
    assert store.details(2)["differences"][0]["path"] == "result.total"
    assert [n.path for n in store.noise_paths("wf")] == ["result.took"]  # v3 noise has a size: kept


def test_a_migrated_store_records_new_comparisons_with_their_origin(tmp_path: Path) -> None:
    store = Store(_v3_store(tmp_path))
    Store(store.url)  # opening it again migrates nothing twice
    result = shadow.run_and_record(
        store, _backends(Fake("airflow", 1), Fake("prefect", 1)), "wf", {}, origin="scheduled", timeout=5
    )
    assert result.comparison_id == 3 and result.origin == "scheduled"
    assert [h["origin"] for h in store.history("wf")] == ["scheduled", "replay", "manual"]
    assert store.details(999)["origin"] is None  # no such comparison


def test_a_fresh_store_has_the_origin_column(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    recorded = shadow.run_and_record(
        store, _backends(Fake("airflow", 1), Fake("prefect", 1)), "wf", {}, origin="manual", timeout=5
    )
    assert (
        store.history("wf")[0]["origin"] == "manual" == store.details(recorded.comparison_id or 0)["origin"]
    )
