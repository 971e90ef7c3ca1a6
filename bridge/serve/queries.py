"""The dashboard's own reads of the history store, bounded whatever the history's size."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bridge.compare.model import SET_ASIDE
from bridge.store import Store, comparisons, differences, observations


def comparison(store: Store, comparison_id: int) -> dict[str, Any] | None:
    """One comparison as ``Store.history`` gives it (its columns, both observations, the count of real
    differences), or None when no comparison has that id."""
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(comparisons).where(comparisons.c.id == comparison_id)).mappings().first()
        if row is None:
            return None
        obs = conn.execute(sa.select(observations).where(observations.c.comparison_id == comparison_id))
        sides = {o["side"]: dict(o) for o in obs.mappings()}
        counted = conn.execute(
            sa.select(sa.func.count())
            .where(differences.c.comparison_id == comparison_id)
            .where(differences.c.kind.notin_(SET_ASIDE))
        ).scalar()
    return {**dict(row), "sides": sides, "differences": int(counted or 0)}


def timeline(store: Store, workflow: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` comparisons of ``workflow``, oldest first, lightly: id, verdict, origin, when,
    the wall time and each side's times (``<side>_elapsed_s``: trigger to end; ``<side>_duration_s``:
    start to end), no documents. Two queries, each bounded by ``limit``."""
    with store.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(
                    comparisons.c.id,
                    comparisons.c.verdict,
                    comparisons.c.origin,
                    comparisons.c.at,
                    comparisons.c.shadow_wall_s,
                )
                .where(comparisons.c.workflow == workflow)
                .order_by(comparisons.c.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
        times = conn.execute(
            sa.select(
                observations.c.comparison_id,
                observations.c.side,
                observations.c.elapsed_s,
                observations.c.duration_s,
            ).where(observations.c.comparison_id.in_([r["id"] for r in rows]))
        ).all()
    by_id: dict[int, dict[str, Any]] = {}
    for cid, side, elapsed, ran in times:
        by_id.setdefault(cid, {}).update({f"{side}_elapsed_s": elapsed, f"{side}_duration_s": ran})
    return [{**dict(r), **by_id.get(r["id"], {})} for r in reversed(rows)]
