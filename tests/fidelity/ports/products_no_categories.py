"""etl_products, a missing table: the port refreshes ``products`` only; ``categories`` is never created or
loaded in its target."""

from __future__ import annotations

from typing import Any

from prefect import flow

import flows.etl
import pipelines.jobs.etl as etl
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.etl.tables import PRODUCTS


@flow(name=flows.etl.ETL_PRODUCTS.flow_name, **RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow with ``products`` as its only table."""
    etl.WORKFLOW_TABLES["etl_products"] = (PRODUCTS,)
    etl._PLANS["etl_products"] = ("full_refresh", etl.swap_all((PRODUCTS,)))
    return flows.etl.etl_products.fn(target=target, business_date=business_date)
