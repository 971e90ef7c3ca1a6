"""etl_products, an extra table: besides the real refresh, the port keeps a copy of the products it loaded
in ``<target>.products_backup`` (same columns and key), a table the legacy job never writes."""

from __future__ import annotations

from typing import Any

from prefect import flow
from psycopg import sql

import flows.etl
import pipelines.jobs.etl as etl
from flows.common import RESULTS
from pipelines.adapters.loader import Load
from pipelines.adapters.mysql_extract import ExtractConfig
from pipelines.adapters.warehouse import qualified
from pipelines.common.targets import DEFAULT_TARGET

_, _real_plan = etl._PLANS["etl_products"]


def with_backup(load: Load, source: str | None, extract: ExtractConfig) -> None:
    """The bug: the real plan, then ``products_backup`` as a copy of ``products``, in the same transaction."""
    _real_plan(load, source, extract)
    backup, products = qualified(load.target, "products_backup"), qualified(load.target, "products")
    load.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(backup))
    load.conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(backup, products))
    load.conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(backup, products))


@flow(name=flows.etl.ETL_PRODUCTS.flow_name, **RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow with ``with_backup`` as its load plan."""
    etl._PLANS["etl_products"] = ("full_refresh", with_backup)
    return flows.etl.etl_products.fn(target=target, business_date=business_date)
