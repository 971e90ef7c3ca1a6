"""etl_orders, the watermark ignored: the increment reads the stored watermark (and reports it) but selects
every order and item, so each run reloads the whole history instead of what changed since."""

from __future__ import annotations

from typing import Any

from prefect import flow

import flows.etl
import pipelines.jobs.etl as etl
from flows.common import RESULTS
from pipelines.adapters.loader import Load
from pipelines.adapters.mysql_extract import ExtractConfig, Extraction
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.etl.tables import ORDER_ITEMS, ORDERS


def everything(load: Load, source: str | None, extract: ExtractConfig) -> None:
    """The bug: the job's incremental plan without its ``updated_at >= watermark`` condition."""
    load.state(ORDERS.name)  # read, then not used
    with Extraction(source, [ORDERS.select_sql(), ORDER_ITEMS.select_sql()], extract) as rows:
        load.stage(ORDERS, rows.result(0))
        load.stage(ORDER_ITEMS, rows.result(1))
        rows.finish()
    load.merge(ORDERS, children=(ORDER_ITEMS, "order_id"))


@flow(name=flows.etl.ETL_ORDERS.flow_name, **RESULTS)
def etl_orders(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow with ``everything`` as its load plan."""
    etl._PLANS["etl_orders"] = ("incremental", everything)
    return flows.etl.etl_orders.fn(target=target, business_date=business_date)
