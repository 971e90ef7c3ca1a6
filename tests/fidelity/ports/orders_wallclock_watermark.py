"""etl_orders, a wrong timestamp: the watermark stored in ``<target>.etl_state`` (and returned as
``watermark_after``) is the run's wall-clock time instead of the largest ``updated_at`` loaded, so the
next increment skips every order updated in between."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow

import flows.etl
from flows.common import RESULTS
from pipelines.adapters.loader import Load, TableResult
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.etl.tables import EtlTable

_real_finish = Load._finish


def finish_at_wall_clock(
    self: Load, table: EtlTable, result: TableResult, after: datetime | None, **kwargs: Any
) -> None:
    """The bug: a table with a cursor gets ``now`` as its watermark."""
    if table.updated_column:
        after = datetime.now(UTC).replace(tzinfo=None)
    _real_finish(self, table, result, after, **kwargs)


@flow(name=flows.etl.ETL_ORDERS.flow_name, **RESULTS)
def etl_orders(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow, its load finishing through ``finish_at_wall_clock``."""
    Load._finish = finish_at_wall_clock  # type: ignore[method-assign]
    return flows.etl.etl_orders.fn(target=target, business_date=business_date)
