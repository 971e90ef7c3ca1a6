"""Deliberately divergent Prefect ports of the shipped workflows, one bug each, for the fidelity suite.

Each module is one port: a flow with the original's name (so it deploys as ``<flow name>/fidelity_<bug>``)
that runs the shipped flow's body with ONE thing changed, applied inside the flow run (a port module is
loaded alone in its own flow-run process, and importing it changes nothing). ``PORTS`` lists them for the
one deploy script of the suite; never deployed by ``flows/deploy.py``.
"""

from __future__ import annotations

from typing import NamedTuple


class Port(NamedTuple):
    """One deployable port: its module under ``tests/fidelity/ports``, the flow function, the work pool."""

    module: str
    flow: str
    pool: str

    @property
    def name(self) -> str:
        """The deployment's name: ``fidelity_<module>``."""
        return f"fidelity_{self.module}"

    @property
    def entrypoint(self) -> str:
        return f"tests/fidelity/ports/{self.module}.py:{self.flow}"

    @property
    def deployment(self) -> str:
        """``<flow name>/<deployment name>``, as the catalog names a deployment."""
        return f"{self.flow.replace('_', '-')}/{self.name}"


PORTS: dict[str, Port] = {
    p.module: p
    for p in (
        Port("prices_rounding", "update_prices_daily", "scheduler"),
        Port("prices_utc_date", "update_prices_daily", "scheduler"),
        Port("prices_drop_uncategorized", "update_prices_daily", "scheduler"),
        Port("catalog_skip_rejected", "process_products", "scheduler"),
        Port("catalog_last_row_high_water", "process_products", "scheduler"),
        Port("orders_wallclock_watermark", "etl_orders", "bigdata"),
        Port("orders_ignore_watermark", "etl_orders", "bigdata"),
        Port("products_no_categories", "etl_products", "bigdata"),
        Port("products_backup_table", "etl_products", "bigdata"),
        Port("products_reordered_tables", "etl_products", "bigdata"),
        Port("queue_no_dedupe", "rabbitmq_worker", "worker"),
        Port("queue_fewer_attempts", "rabbitmq_worker", "worker"),
        Port("queue_retry_malformed", "sqs_worker", "worker"),
    )
}


def deploy_script() -> str:
    """A Python script that deploys every port to the Prefect server of ``$PREFECT_API_URL``: loaded one
    by one, applied all at once (a deploy each, in turn, costs seconds apiece on this machine)."""
    ports = [(p.entrypoint, p.name, p.pool) for p in PORTS.values()]
    return (
        "import asyncio\n"
        "from prefect import Flow\n"
        f"PORTS = {ports!r}\n"
        "async def main():\n"
        "    ready = []\n"
        "    for entrypoint, name, pool in PORTS:\n"
        "        flow = await Flow.afrom_source(source='.', entrypoint=entrypoint)\n"
        "        ready.append((await flow.ato_deployment(name=name, work_pool_name=pool), pool))\n"
        "    await asyncio.gather(*(d.apply(work_pool_name=pool) for d, pool in ready))\n"
        "asyncio.run(main())\n"
    )
