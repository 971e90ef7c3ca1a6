"""process_products, an ordering bug: the high-water mark recorded in ``etl_watermarks`` is the
``updated_at`` of the last row read (rows come in id order) instead of the largest one, so the next run's
window starts in the past or skips rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prefect import flow

import flows.cron
import pipelines.jobs.products as products
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET


def last_one(values: Iterable[Any], default: Any = None) -> Any:
    """The bug, standing in for ``max`` in the job: the last value, as if the rows came in time order."""
    last = default
    for last in values:  # noqa: B007  the loop keeps the last value
        pass
    return last


@flow(name=flows.cron.PROCESS_PRODUCTS.flow_name, **RESULTS)
def process_products(
    target: str = DEFAULT_TARGET, business_date: str | None = None, since: str | None = None
) -> dict[str, Any]:
    """The shipped flow, its high-water mark taken by ``last_one``."""
    products.max = last_one  # type: ignore[attr-defined]  # the job's only max(): the high-water mark
    return flows.cron.process_products.fn(target=target, business_date=business_date, since=since)
