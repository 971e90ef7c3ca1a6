"""update_prices_daily, a filter that drops rows: products without a category (priced at the default
margin by the real rule) are left out of ``price_history``; the summary's counts still include them."""

from __future__ import annotations

from typing import Any

from prefect import flow

import flows.cron
import pipelines.jobs.prices as prices
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET

_real_price_rows = prices.price_rows


def categorized_only(*args: Any, **kwargs: Any) -> tuple[list[tuple[object, ...]], dict[str, int]]:
    """The bug: the real rows, minus those with no ``category_id`` (column 3)."""
    rows, counts = _real_price_rows(*args, **kwargs)
    return [r for r in rows if r[3] is not None], counts


@flow(name=flows.cron.UPDATE_PRICES_DAILY.flow_name, **RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow with ``categorized_only`` filtering the day's rows."""
    prices.price_rows = categorized_only
    return flows.cron.update_prices_daily.fn(target=target, business_date=business_date)
