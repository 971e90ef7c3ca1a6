"""process_products, a swallowed error: products that fail validation are silently skipped, never written
(the real job writes them with ``is_valid`` false and their ``reject_reason``, so bad rows stay visible)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow

import flows.cron
import pipelines.jobs.products as products
from flows.common import RESULTS
from pipelines.common.tables import TableSpec
from pipelines.common.targets import DEFAULT_TARGET

_real_upsert = products.upsert_rows
_IS_VALID = products.PROCESSED_PRODUCTS.column_names.index("is_valid")


def valid_rows_only(conn: Any, target: str, spec: TableSpec, rows: Sequence[Sequence[object]]) -> Any:
    """The bug: rejected products are dropped on the way to ``processed_products``, without a word."""
    if spec.name == products.PROCESSED_PRODUCTS.name:
        rows = [r for r in rows if r[_IS_VALID]]
    return _real_upsert(conn, target, spec, rows)


@flow(name=flows.cron.PROCESS_PRODUCTS.flow_name, **RESULTS)
def process_products(
    target: str = DEFAULT_TARGET, business_date: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """The shipped flow, writing through ``valid_rows_only``."""
    products.upsert_rows = valid_rows_only
    return flows.cron.process_products.fn(target=target, business_date=business_date, since=since)
