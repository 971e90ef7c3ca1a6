"""Each workflow's stage as every command sees it: the history store's, else its bridge.toml entry's.

Read on every CLI start (``trigger_script.py --backend auto`` follows it), so the default SQLite store is
read with the standard library's sqlite3, read-only, without SQLAlchemy (tens of milliseconds saved); a
store at another URL (PostgreSQL) goes through the ledger.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.config import Catalog, bridge_home

SQLITE_PREFIX = "sqlite:///"


def stored_stages(catalog: Catalog) -> dict[str, str]:
    """workflow -> stage for every workflow whose stage the store holds ({} for a store not yet made)."""
    url = catalog.store_url
    if url is None or url.startswith(SQLITE_PREFIX):
        path = bridge_home() / "history.db" if url is None else Path(url.removeprefix(SQLITE_PREFIX))
        return _from_sqlite(path)
    from bridge.cutover.ledger import Ledger
    from bridge.store import Store

    return {w: r.stage for w, r in Ledger(Store(url)).all_current().items()}


def _from_sqlite(path: Path) -> dict[str, str]:
    import sqlite3

    if not path.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return {}
    try:
        return dict(conn.execute("SELECT workflow, stage FROM stages").fetchall())
    except sqlite3.Error:  # a store from before the stage tables: nothing recorded yet
        return {}
    finally:
        conn.close()


def effective(catalog: Catalog) -> Catalog:
    """``catalog`` with each entry's stage replaced by the store's where the store holds one."""
    stored = stored_stages(catalog)
    if not stored:
        return catalog
    workflows = {
        dag_id: dataclasses.replace(entry, stage=stored[dag_id]) if dag_id in stored else entry
        for dag_id, entry in catalog.workflows.items()
    }
    return dataclasses.replace(catalog, workflows=workflows)


def stage_source(catalog: Catalog, stored: dict[str, str], workflow: str) -> tuple[str, str]:
    """(stage, where it comes from: 'store' or 'bridge.toml') for one workflow."""
    if workflow in stored:
        return stored[workflow], "store"
    return catalog.entry(workflow).stage, "bridge.toml"
