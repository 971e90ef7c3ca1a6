"""The series, read from the history store at each scrape (nothing kept in memory between scrapes: the
store is the truth, and several processes write it).

Per workflow (no run ids as labels): comparisons by verdict and origin, each side's durations (a summary
of every comparison's, and the latest), the stage as an info metric, the last comparison and the last
match as timestamps, the consistency ratio over the newest ``window`` comparisons; then the gates last
seen and the publishing deliveries by kind and status.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from bridge.store import Store, comparisons, observations

SIDES = ("airflow", "prefect")


def _ts(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _as_time(value: datetime | str) -> datetime:
    """SQLite hands a CASE over timestamps back as text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class StoreCollector(Collector):
    """A prometheus_client collector over one history store; ``stages``: workflow -> stage (the store's
    ledger over bridge.toml's, given by the caller)."""

    def __init__(self, store: Store, stages: Mapping[str, str] | None = None, window: int = 20) -> None:
        self.store = store
        self.stages = dict(stages or {})
        self.window = window

    def collect(self) -> Iterator[Metric]:
        with self.store.engine.connect() as conn:
            yield self._comparisons(conn)
            yield from self._durations(conn)
            yield from self._times(conn)
            yield self._consistency(conn)
            yield from self._publishing(conn)
        yield self._stage()

    def _comparisons(self, conn: sa.Connection) -> Metric:
        c = comparisons.c
        family = CounterMetricFamily(
            "bridge_comparisons",
            "Comparisons recorded, by workflow, verdict and origin",
            labels=["workflow", "verdict", "origin"],
        )
        rows = conn.execute(
            sa.select(c.workflow, c.verdict, c.origin, sa.func.count()).group_by(
                c.workflow, c.verdict, c.origin
            )
        )
        for workflow, verdict, origin, n in rows:
            family.add_metric([workflow, verdict, origin or "manual"], int(n))
        return family

    def _durations(self, conn: sa.Connection) -> Iterator[Metric]:
        c, o = comparisons.c, observations.c
        ran = SummaryMetricFamily(
            "bridge_run_duration_seconds",
            "Each side's run time (its own start to end) over every comparison",
            labels=["workflow", "side"],
        )
        waited = SummaryMetricFamily(
            "bridge_run_waited_seconds",
            "Each side's time from the bridge's trigger to the run's end, over every comparison",
            labels=["workflow", "side"],
        )
        join = comparisons.join(observations, o.comparison_id == c.id)
        rows = conn.execute(  # one pass over the observations for both summaries
            sa.select(
                c.workflow,
                o.side,
                sa.func.count(o.duration_s),
                sa.func.sum(o.duration_s),
                sa.func.count(o.elapsed_s),
                sa.func.sum(o.elapsed_s),
            )
            .select_from(join)
            .group_by(c.workflow, o.side)
        )
        for workflow, side, n_ran, ran_s, n_waited, waited_s in rows:
            if n_ran:
                ran.add_metric([workflow, side], count_value=int(n_ran), sum_value=float(ran_s or 0.0))
            if n_waited:
                waited.add_metric(
                    [workflow, side], count_value=int(n_waited), sum_value=float(waited_s or 0.0)
                )
        yield ran
        yield waited
        latest = GaugeMetricFamily(
            "bridge_last_run_duration_seconds",
            "Each side's run time (start to end) in the workflow's newest comparison",
            labels=["workflow", "side"],
        )
        newest = sa.select(sa.func.max(c.id)).group_by(c.workflow).scalar_subquery()
        rows = conn.execute(
            sa.select(c.workflow, o.side, o.duration_s)
            .select_from(join)
            .where(c.id.in_(newest))
            .where(o.duration_s.is_not(None))
        )
        for workflow, side, seconds in rows:
            latest.add_metric([workflow, side], float(seconds))
        yield latest

    def _times(self, conn: sa.Connection) -> Iterator[Metric]:
        c = comparisons.c
        last = GaugeMetricFamily(
            "bridge_last_comparison_timestamp_seconds",
            "When the workflow's newest comparison was recorded",
            labels=["workflow"],
        )
        match = GaugeMetricFamily(
            "bridge_last_match_timestamp_seconds",
            "When the workflow's newest match was recorded",
            labels=["workflow"],
        )
        newest_match = sa.func.max(sa.case((c.verdict == "match", c.at), else_=None))
        rows = conn.execute(sa.select(c.workflow, sa.func.max(c.at), newest_match).group_by(c.workflow))
        for workflow, at, matched in rows:
            last.add_metric([workflow], _ts(at) or 0.0)
            if matched is not None:
                match.add_metric([workflow], _ts(_as_time(matched)) or 0.0)
        yield last
        yield match

    def _consistency(self, conn: sa.Connection) -> Metric:
        c = comparisons.c
        family = GaugeMetricFamily(
            "bridge_consistency_ratio",
            f"Share of match among the workflow's newest {self.window} comparisons (0 to 1)",
            labels=["workflow"],
        )
        rank = sa.func.row_number().over(partition_by=c.workflow, order_by=c.id.desc()).label("rank")
        newest = sa.select(c.workflow, c.verdict, rank).subquery()
        rows = conn.execute(
            sa.select(
                newest.c.workflow,
                sa.func.count(),
                sa.func.sum(sa.case((newest.c.verdict == "match", 1), else_=0)),
            )
            .where(newest.c.rank <= self.window)
            .group_by(newest.c.workflow)
        )
        for workflow, n, matches in rows:
            family.add_metric([workflow], float(matches or 0) / int(n))
        return family

    def _publishing(self, conn: sa.Connection) -> Iterator[Metric]:
        from bridge.publish.outbox import deliveries, gate_states

        inspector = sa.inspect(conn)
        if inspector.has_table("gate_states"):
            gates = GaugeMetricFamily(
                "bridge_gate_ok",
                "1 when the cutover gate held when last evaluated, else 0",
                labels=["workflow", "gate"],
            )
            for workflow, gate, ok in conn.execute(
                sa.select(gate_states.c.workflow, gate_states.c.gate, gate_states.c.ok)
            ):
                gates.add_metric([workflow, gate], 1.0 if ok else 0.0)
            yield gates
        if inspector.has_table("deliveries"):
            d = deliveries.c
            family = CounterMetricFamily(
                "bridge_deliveries",
                "Publishing deliveries (notes, artifacts, events, alerts) by kind and status",
                labels=["kind", "status"],
            )
            for kind, status, n in conn.execute(
                sa.select(d.kind, d.status, sa.func.count()).group_by(d.kind, d.status)
            ):
                family.add_metric([kind, status], int(n))
            yield family

    def _stage(self) -> Metric:
        family = InfoMetricFamily("bridge_stage", "The workflow's current stage", labels=["workflow"])
        for workflow, stage in sorted(self.stages.items()):
            family.add_metric([workflow], {"stage": stage})
        return family
