"""Price rules (pure, exact ``Decimal`` arithmetic, no I/O).

For a product with cost C (> 0) in a category with margin M % on business date D:

1. list price  L = C x (1 + M/100); a product whose category is unknown gets ``DEFAULT_MARGIN_PCT``.
2. promotion: of the promotions active on D (``valid_from <= D``, and ``valid_to`` NULL or ``D <=
   valid_to``, both ends inclusive) that name the product or its category, the one with the largest
   ``percent_off`` wins (ties: lowest promotion id). Promotions do not stack. A promotion whose
   ``percent_off`` is not strictly between 0 and 100 is ignored.
3. discounted  X = L x (1 - P/100), P the winning percent (0 without one).
4. price = the smallest amount >= X whose cents are .90 or .99: with N = floor(X) and F = X - N,
   F <= 0.90 -> N.90;  0.90 < F <= 0.99 -> N.99;  F > 0.99 -> (N+1).90.
   So 10.00 -> 10.90, 10.90 -> 10.90, 10.91 -> 10.99, 10.99 -> 10.99, 10.995 -> 11.90, 0.05 -> 0.90.

Rule 2 over a whole catalogue goes through ``PromotionIndex``: the usable promotions active on D, each
product's and each category's best kept once, so pricing N products against P promotions costs N + P,
not N x P (``best_promotion`` scans them all and stays as the rule's plain statement).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal

DEFAULT_MARGIN_PCT = Decimal("30.00")
_HUNDRED = Decimal(100)
_ENDING_LOW = Decimal("0.90")
_ENDING_HIGH = Decimal("0.99")


@dataclass(frozen=True)
class Promotion:
    """A percent-off promotion on one product or on a whole category (exactly one of the two is set)."""

    id: int
    product_id: int | None
    category_id: int | None
    percent_off: Decimal
    valid_from: date
    valid_to: date | None

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def applies_to(self, product_id: int, category_id: int | None) -> bool:
        if self.product_id is not None:
            return self.product_id == product_id
        return self.category_id is not None and self.category_id == category_id

    @property
    def usable(self) -> bool:
        return Decimal(0) < self.percent_off < _HUNDRED


def valid_cost(cost: Decimal | None) -> bool:
    """A cost can be priced when it is set and positive."""
    return cost is not None and cost > 0


def round_up_to_ending(amount: Decimal) -> Decimal:
    """The smallest amount >= ``amount`` ending in .90 or .99 (rule 4 of the module doc)."""
    if amount < 0:
        raise ValueError(f"cannot price a negative amount {amount}")
    whole = amount.to_integral_value(rounding=ROUND_FLOOR)
    fraction = amount - whole
    if fraction <= _ENDING_LOW:
        return whole + _ENDING_LOW
    if fraction <= _ENDING_HIGH:
        return whole + _ENDING_HIGH
    return whole + 1 + _ENDING_LOW


def list_price(cost: Decimal, margin_pct: Decimal) -> Decimal:
    """Cost plus margin, unrounded."""
    return cost * (1 + margin_pct / _HUNDRED)


def best_promotion(
    promotions: Iterable[Promotion], product_id: int, category_id: int | None, day: date
) -> Promotion | None:
    """The promotion that applies to the product on ``day`` (rule 2), or None."""
    candidates = [
        p for p in promotions if p.usable and p.active_on(day) and p.applies_to(product_id, category_id)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-p.percent_off, p.id))


def _better(a: Promotion | None, b: Promotion | None) -> Promotion | None:
    """The winner of rule 2 between two candidates (largest percent, then lowest id)."""
    if a is None or b is None:
        return a or b
    return a if (-a.percent_off, a.id) <= (-b.percent_off, b.id) else b


def _keep_best(best: dict[int, Promotion], key: int, promotion: Promotion) -> None:
    current = best.get(key)
    if current is None or (-promotion.percent_off, promotion.id) < (-current.percent_off, current.id):
        best[key] = promotion


@dataclass
class PromotionIndex:
    """The best usable promotion active on ``day`` per product and per category (rule 2), built in one
    pass over the promotions; ``best`` answers one product in O(1) with the same result as
    ``best_promotion`` over the whole list."""

    day: date
    by_product: dict[int, Promotion] = field(default_factory=dict)
    by_category: dict[int, Promotion] = field(default_factory=dict)

    @classmethod
    def build(cls, promotions: Iterable[Promotion], day: date) -> PromotionIndex:
        index = cls(day)
        for p in promotions:
            if not (p.usable and p.active_on(day)):
                continue
            if p.product_id is not None:
                _keep_best(index.by_product, p.product_id, p)
            elif p.category_id is not None:
                _keep_best(index.by_category, p.category_id, p)
        return index

    def best(self, product_id: int, category_id: int | None) -> Promotion | None:
        own = self.by_product.get(product_id)
        if category_id is None:
            return own
        return _better(own, self.by_category.get(category_id))


def compute_price(cost: Decimal, margin_pct: Decimal, percent_off: Decimal = Decimal(0)) -> Decimal:
    """The day's price for a valid cost (rules 1, 3 and 4)."""
    if not valid_cost(cost):
        raise ValueError(f"cannot price cost {cost!r}")
    discounted = list_price(cost, margin_pct) * (1 - percent_off / _HUNDRED)
    return round_up_to_ending(discounted)
