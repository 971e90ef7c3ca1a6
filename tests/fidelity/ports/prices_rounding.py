"""update_prices_daily, wrong rounding: the price is rounded half-up to the cent instead of up to the next
.90/.99 ending (``pipelines.cron.pricing.round_up_to_ending``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from prefect import flow

import flows.cron
import pipelines.jobs.prices as prices
from flows.common import RESULTS
from pipelines.common.targets import DEFAULT_TARGET
from pipelines.cron.pricing import list_price, valid_cost


def rounded_to_cent(cost: Decimal, margin_pct: Decimal, percent_off: Decimal = Decimal(0)) -> Decimal:
    """The bug: the discounted list price, half-up to the cent (no .90/.99 ending)."""
    if not valid_cost(cost):
        raise ValueError(f"cannot price cost {cost!r}")
    discounted = list_price(cost, margin_pct) * (1 - percent_off / 100)
    return discounted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@flow(name=flows.cron.UPDATE_PRICES_DAILY.flow_name, **RESULTS)
def update_prices_daily(target: str = DEFAULT_TARGET, business_date: str | None = None) -> dict[str, Any]:
    """The shipped flow with ``rounded_to_cent`` as the pricing rule."""
    prices.compute_price = rounded_to_cent
    return flows.cron.update_prices_daily.fn(target=target, business_date=business_date)
