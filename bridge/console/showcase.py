"""The demo: what each orchestrator knows, then every workflow shadow-run, summed up and reported."""

from __future__ import annotations

import sys
from typing import IO

from bridge.console.common import Options, backends_for
from bridge.console.data import database_errors
from bridge.console.runs import list_workflows
from bridge.console.shadow import ShadowProgress, report_after_run, store_for


def demo(
    opts: Options,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
    *,
    i_own_this_database: bool = False,
) -> None:
    """What each orchestrator knows, then the main job: seed, shadow-run every workflow, summary, report.
    The source is reseeded and the demo targets reset only where the bridge created them, unless
    ``i_own_this_database``."""
    from bridge import demo as demo_mod

    backends = backends_for(opts)
    out.write("== Workflows (Airflow DAGs and Prefect deployments, joined through bridge.toml)\n")
    list_workflows(opts, out, err)
    prefect = backends.get("prefect")
    pools = prefect.client.post("/work_pools/filter", json={})
    out.write("\n== Prefect work pools\n")
    for pool in sorted(pools, key=lambda p: p["name"]):
        workers = prefect.client.post(f"/work_pools/{pool['name']}/workers/filter", json={})
        online = sum(1 for w in workers if w.get("status") == "ONLINE")
        out.write(f"  {pool['name']:<12} type {pool['type']:<8} workers online: {online}\n")
    out.write("\n== Shadow runs (Airflow authoritative, Prefect into its shadow target)\n")

    def say(line: str) -> None:
        err.write(line + "\n")

    with database_errors("the demo's source and warehouse"):
        demo_mod.seed_sources(say, i_own_this_database=i_own_this_database)
        demo_mod.reset_targets(backends.catalog, say, i_own_this_database=i_own_this_database)
        from bridge.devstack import StackSettings

        demo_mod.fill_queues(backends.catalog, StackSettings.from_env().sqs_url, say)
    store = store_for(backends)
    rows = demo_mod.run_all(backends, store, progress=lambda dag_id: ShadowProgress(err, dag_id), say=say)
    out.write(demo_mod.table(rows) + "\n")
    report = report_after_run(store, backends.catalog, None, err)
    out.write(f"\nReport:     {report or 'not written'}\n")
    out.write(f"Airflow UI: {backends.catalog.airflow.url}\n")
    out.write(f"Prefect UI: {prefect.ui_url}\n")
    unmatched = [r for r in rows if r.verdict != "match"]
    if unmatched:
        from bridge.errors import MismatchError

        raise MismatchError(f"{len(unmatched)} of {len(rows)} workflows did not match")
