"""`make demo`'s main job: seed the sources, shadow-run every catalogued workflow, summarize, write the report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: The conf each workflow's demo shadow run gets: a fixed business date so both sides read the same data,
#: and demo targets that the demo resets first, so primary and shadow start from the same (empty) state.
DEMO_CONF: dict[str, dict[str, Any]] = {
    "hello_bridge": {"name": "demo"},
    "process_products": {"business_date": "2024-12-31", "target": "demo_cron"},
    "update_prices_daily": {"business_date": "2024-12-31", "target": "demo_cron"},
    "etl_products": {"business_date": "2024-12-31", "target": "demo_etl"},
    "etl_orders": {"business_date": "2024-12-31", "target": "demo_etl"},
    "full_migration_weekly": {"business_date": "2024-12-31", "target": "demo_full"},
    "rabbitmq_worker": {
        "target": "demo_queue",
        "stream": "demo_orders",
        "max_attempts": 3,
        "retry_base_seconds": 0.2,
    },
    "sqs_worker": {
        "target": "demo_queue",
        "stream": "demo_orders",
        "max_attempts": 3,
        "retry_base_seconds": 0.2,
        "batch_size": 50,
    },
}
#: Messages per broker; fewer on SQS, whose local stand-in (moto) slows down with queue length.
DEMO_MESSAGES = {"rabbitmq": 1000, "sqs": 200}
QUEUE_WORKERS = {"rabbitmq_worker": "rabbitmq", "sqs_worker": "sqs"}
DEMO_SEED = 42
DEMO_ROWS = 500


@dataclass(frozen=True)
class DemoRow:
    workflow: str
    verdict: str
    airflow_s: float | None
    prefect_s: float | None
    wall_s: float
    differences: int  # what the verdict counts: values, differing rows, tables in one target or not compared
    set_aside: int = 0  # listed, not counted: ignored by a rule, or within calibrated noise
    #: airflow_s / prefect_s are what the caller waited (trigger → end); these, what each run ran (start → end)
    airflow_ran_s: float | None = None
    prefect_ran_s: float | None = None

    @property
    def over_slower_s(self) -> float | None:
        sides = [s for s in (self.airflow_s, self.prefect_s) if s is not None]
        return self.wall_s - max(sides) if sides else None


def seed_sources(say: Callable[[str], None], *, i_own_this_database: bool = False) -> None:
    """The source for every scenario: products, categories and promotions (scenario 1) plus orders and
    order items (scenario 3), one deterministic seed. Only in a source database the bridge created
    (``NotOwnedError`` otherwise) unless ``i_own_this_database``."""
    from devkit.etl_seed import seed_etl
    from pipelines.adapters import db

    url = db.source_url()
    db.ensure_source_database(url)
    db.ensure_warehouse_database(db.warehouse_url())
    seed_etl(url, DEMO_ROWS, DEMO_SEED, i_own_this_database=i_own_this_database)
    say(f"seeded {db.DatabaseUrl.parse(url).render()}: {DEMO_ROWS} products and orders, seed {DEMO_SEED}")


def fill_queues(catalog: Any, sqs_endpoint: str, say: Callable[[str], None]) -> None:
    """Empty the demo streams, then publish the same order events to the primary's and the shadow's queue
    of each broker (a few poison and malformed ones included: they must end in both dead-letter queues).
    Only the demo's own streams are deleted: their names (``DEMO_CONF``) are fixed, none a user's."""
    from devkit.producer import publish_orders
    from pipelines.adapters import rabbitmq_admin, sqs_admin

    for dag_id, broker in QUEUE_WORKERS.items():
        conf = DEMO_CONF[dag_id]
        targets = [conf["target"], catalog.entry(dag_id).shadow.shadow_target(conf["target"])]
        url = sqs_endpoint if broker == "sqs" else None
        if broker == "sqs":
            sqs_admin.delete_stream(conf["stream"], targets, endpoint=url)
        else:
            rabbitmq_admin.delete_stream(conf["stream"], targets)
        publish_orders(
            broker,
            DEMO_MESSAGES[broker],
            DEMO_SEED,
            targets=targets,
            stream=conf["stream"],
            poison=2,
            malformed=2,
            duplicates=5,
            url=url,
        )
        say(
            f"published {DEMO_MESSAGES[broker]} order events on {broker} stream {conf['stream']} to {', '.join(targets)}"
        )


def reset_targets(catalog: Any, say: Callable[[str], None], *, i_own_this_database: bool = False) -> None:
    """Drop the demo's primary targets and their shadows: both sides start from the same empty state.
    (A stateful workflow - a watermark, a merge - only compares fairly from equal starting states.)

    Only schemas of the bridge's own: in a warehouse database it created, or marked when it created them;
    each is checked before any is dropped (``NotOwnedError`` names the first that is not), unless
    ``i_own_this_database``. In a warehouse database of someone else's, each schema is created again at
    once, marked, so the next demo may reset it."""
    from psycopg import sql

    from pipelines.adapters import db, ownership

    schemas = set()
    for dag_id, conf in DEMO_CONF.items():
        if "target" in conf:
            schemas |= {conf["target"], catalog.entry(dag_id).shadow.shadow_target(conf["target"])}
    with db.warehouse_connection(catalog.warehouse_url or db.warehouse_url()) as conn:
        for schema in sorted(schemas):
            ownership.require_schema_owned(conn, schema, override=i_own_this_database)
        ours = bool(ownership.database_owned(conn))
        for schema in sorted(schemas):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            if not ours:
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                ownership.mark_schema(conn, schema)
        conn.commit()
    say(f"reset demo targets: {', '.join(sorted(schemas))}")


def run_all(
    backends: Any,
    store: Any,
    confs: Mapping[str, dict[str, Any]] = DEMO_CONF,
    progress: Callable[[str], Any] | None = None,
    say: Callable[[str], None] = print,
) -> list[DemoRow]:
    """Shadow-run each catalogued workflow that has a deployment and a demo conf; record each comparison
    (origin ``manual``: someone ran the demo).
    ``progress(dag_id)`` makes each run's progress callback."""
    from bridge import followup, shadow

    rows = []
    for dag_id, entry in sorted(backends.catalog.workflows.items()):
        if not entry.deployment or dag_id not in confs:
            continue
        say(f"shadow run of {dag_id} ...")
        result = shadow.run_and_record(
            store,
            backends,
            dag_id,
            confs[dag_id],
            origin="manual",
            timeout=1800,
            progress=progress(dag_id) if progress else None,
        )
        say(f"shadow {dag_id}: {result.verdict_line}")
        followup.after_comparisons(store, backends.catalog, [dag_id])
        tally = result.tally
        rows.append(
            DemoRow(
                dag_id,
                result.verdict,
                result.primary.elapsed_s,
                result.shadow.elapsed_s,
                result.wall_s,
                tally.real,
                tally.ignored + tally.noise,
                result.primary.duration_s,
                result.shadow.duration_s,
            )
        )
    return rows


def table(rows: list[DemoRow]) -> str:
    """The demo's summary: one line per workflow; each side's time waited (trigger → end) / ran (start →
    end); DIFFS is what its verdict counts, ASIDE what was listed but not counted (ignored, noise)."""
    header = (
        f"{'WORKFLOW':<24}{'VERDICT':<15}{'AIRFLOW waited/ran':>20}{'PREFECT waited/ran':>20}{'WALL':>8}"
        f"{'WALL-SLOWER':>13}{'DIFFS':>7}{'ASIDE':>7}"
    )
    lines = [header]
    for r in rows:

        def s(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}s"

        lines.append(
            f"{r.workflow:<24}{r.verdict:<15}{s(r.airflow_s) + '/' + s(r.airflow_ran_s):>20}"
            f"{s(r.prefect_s) + '/' + s(r.prefect_ran_s):>20}{s(r.wall_s):>8}"
            f"{s(r.over_slower_s):>13}{r.differences:>7}{r.set_aside:>7}"
        )
    return "\n".join(lines)
