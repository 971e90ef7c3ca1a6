"""etl_products, NOT a bug (a negative control): the port prepares its target's tables in the reverse order,
so ``prepare_target`` lists the same tables in another order; everything it writes is the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow

import flows.etl
import pipelines.jobs.etl as etl
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.etl.tables import EtlTable

_real_prepare = etl.prepare_etl_target


def reversed_prepare(
    warehouse: Any, target: str, tables: Sequence[EtlTable] = etl.ALL_TABLES
) -> dict[str, object]:
    """The same tables created, in the reverse order."""
    return _real_prepare(warehouse, target, tuple(reversed(tables)))


@flow(name=flows.etl.ETL_PRODUCTS.flow_name, **RESULTS)
def etl_products(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow, preparing its tables through ``reversed_prepare``."""
    etl.prepare_etl_target = reversed_prepare
    return flows.etl.etl_products.fn(target=target, business_date=business_date)
