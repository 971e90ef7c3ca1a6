"""Price rules: margin by category, best active promotion, rounding up to .90/.99."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from pipelines.cron.pricing import (
    DEFAULT_MARGIN_PCT,
    Promotion,
    PromotionIndex,
    best_promotion,
    compute_price,
    list_price,
    round_up_to_ending,
    valid_cost,
)
from pipelines.jobs.prices import price_rows

pytestmark = pytest.mark.unit

DAY = date(2024, 12, 31)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("10.00", "10.90"),
        ("10.5", "10.90"),
        ("10.90", "10.90"),  # already on an ending: unchanged
        ("10.9000001", "10.99"),
        ("10.91", "10.99"),
        ("10.99", "10.99"),
        ("10.991", "11.90"),
        ("10.995", "11.90"),
        ("0", "0.90"),
        ("0.05", "0.90"),
        ("99.999", "100.90"),
        ("123.4567", "123.90"),
    ],
)
def test_round_up_to_next_90_or_99(amount: str, expected: str) -> None:
    assert round_up_to_ending(D(amount)) == D(expected)


def test_rounding_never_goes_down_and_always_ends_in_90_or_99() -> None:
    for cents in range(0, 2_000, 7):
        amount = D(cents) / 100 + D("0.003")
        price = round_up_to_ending(amount)
        assert price >= amount
        assert str(price).split(".")[1] in ("90", "99")
        assert price - amount < 1  # the next ending, not a later one


def test_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        round_up_to_ending(D("-0.01"))


def test_margin_is_applied_exactly() -> None:
    assert list_price(D("100.00"), D("25.00")) == D("125")
    assert list_price(D("19.99"), D("12.50")) == D("22.48875")
    assert compute_price(D("100.00"), D("25.00")) == D("125.90")
    assert compute_price(D("19.99"), D("12.50")) == D("22.90")


def test_promotion_is_taken_off_the_list_price_before_rounding() -> None:
    # 100 * 1.25 = 125; 20 % off = 100.00 -> 100.90
    assert compute_price(D("100.00"), D("25.00"), D("20.00")) == D("100.90")
    # 80 * 1.40 = 112; 50 % off = 56 -> 56.90
    assert compute_price(D("80.00"), D("40.00"), D("50")) == D("56.90")
    # 10.40 * 1.15 = 11.96 -> 11.99
    assert compute_price(D("10.40"), D("15.00")) == D("11.99")


@pytest.mark.parametrize("cost", [None, D("0"), D("0.00"), D("-1.50")])
def test_invalid_costs_are_not_priced(cost: D | None) -> None:
    assert not valid_cost(cost)
    with pytest.raises(ValueError):
        compute_price(cost, D("25.00"))  # type: ignore[arg-type]


def promo(
    pid: int,
    percent: str,
    *,
    product: int | None = None,
    category: int | None = None,
    start: date = date(2024, 12, 1),
    end: date | None = None,
) -> Promotion:
    return Promotion(
        id=pid,
        product_id=product,
        category_id=category,
        percent_off=D(percent),
        valid_from=start,
        valid_to=end,
    )


def test_best_promotion_is_the_largest_active_one_for_the_product_or_its_category() -> None:
    promotions = [
        promo(1, "10", category=3),
        promo(2, "15", product=7),
        promo(3, "50", product=8),  # another product
        promo(4, "40", category=4),  # another category
        promo(5, "30", product=7, start=date(2025, 1, 1)),  # not started yet
        promo(6, "35", category=3, end=date(2024, 12, 30)),  # already over
    ]
    assert best_promotion(promotions, 7, 3, DAY) == promotions[1]
    assert best_promotion(promotions, 9, 3, DAY) == promotions[0]
    assert best_promotion(promotions, 9, None, DAY) is None
    assert best_promotion([], 7, 3, DAY) is None


def test_category_promotion_beats_a_smaller_product_promotion_and_ties_go_to_the_lowest_id() -> None:
    assert best_promotion([promo(2, "5", product=7), promo(1, "20", category=3)], 7, 3, DAY).id == 1
    assert best_promotion([promo(9, "20", product=7), promo(4, "20", category=3)], 7, 3, DAY).id == 4


def test_promotion_dates_are_inclusive_and_open_ended_promotions_never_end() -> None:
    assert promo(1, "10", start=DAY, end=DAY).active_on(DAY)
    assert not promo(1, "10", start=DAY, end=DAY).active_on(date(2025, 1, 1))
    assert not promo(1, "10", start=date(2025, 1, 1)).active_on(DAY)
    assert promo(1, "10", start=date(2020, 1, 1), end=None).active_on(date(2099, 1, 1))


@pytest.mark.parametrize("percent", ["0", "100", "-5", "120"])
def test_unusable_percentages_are_ignored(percent: str) -> None:
    assert best_promotion([promo(1, percent, product=7)], 7, 3, DAY) is None


def test_price_rows_skip_invalid_costs_and_inactive_products_and_default_the_margin() -> None:
    products = [
        (1, " ele_000001 ", 1, D("100.00"), 1),  # priced, promoted, SKU normalized
        (2, "BOO-000002", 3, None, 1),  # NULL cost: skipped
        (3, "BOO-000003", 3, D("0.00"), 1),  # zero cost: skipped
        (4, "BOO-000004", 3, D("-2.00"), 1),  # negative cost: skipped
        (5, "BOO-000005", 3, D("10.00"), 0),  # inactive: skipped
        (6, "XXX-000006", 99, D("10.00"), 1),  # unknown category: default margin
        (7, "XXX-000007", None, D("10.00"), 1),  # no category: default margin
    ]
    margins = {1: D("25.00"), 3: D("15.00")}
    rows, counts = price_rows(products, margins, [promo(1, "20", product=1)], DAY)
    assert counts == {"skipped_invalid_cost": 3, "skipped_inactive": 1, "promoted": 1, "default_margin": 2}
    assert [r[0] for r in rows] == [1, 6, 7]
    first = rows[0]
    assert first == (1, DAY, "ELE-000001", 1, D("100.00"), D("25.00"), 1, D("20"), D("100.90"))
    assert rows[1][5] == DEFAULT_MARGIN_PCT
    assert rows[1][8] == compute_price(D("10.00"), DEFAULT_MARGIN_PCT)  # 13.00 -> 13.90
    assert rows[1][8] == D("13.90")


def test_the_promotion_index_picks_what_the_full_scan_picks_for_every_product() -> None:
    rng = random.Random(16)
    promotions = []
    for i in rng.sample(range(1, 5000), 1500):  # ids out of order: ties must still go to the lowest
        on_product = rng.random() < 0.6
        start = DAY + timedelta(days=rng.randint(-30, 3))
        end = None if rng.random() < 0.3 else start + timedelta(days=rng.randint(-2, 40))
        promotions.append(
            promo(
                i,
                rng.choice(["-5", "0", "5", "10", "10", "20", "35", "99.99", "100"]),
                product=rng.randint(1, 400) if on_product else None,
                category=None if on_product else rng.randint(1, 12),
                start=start,
                end=end,
            )
        )
    index = PromotionIndex.build(promotions, DAY)
    picked = 0
    for product in range(1, 420):
        for category in (None, *range(1, 14)):
            expected = best_promotion(promotions, product, category, DAY)
            assert index.best(product, category) == expected, (product, category)
            picked += expected is not None
    assert picked > 1000  # the sample exercises real choices, not only "no promotion"


def test_price_rows_use_the_same_promotions_as_the_full_scan() -> None:
    promotions = [promo(1, "10", category=3), promo(2, "15", product=7), promo(3, "15", category=3)]
    rows, counts = price_rows(
        [(7, "A-7", 3, D("10.00"), 1), (8, "A-8", 3, D("10.00"), 1)], {}, promotions, DAY
    )
    assert [r[6] for r in rows] == [2, 3]
    assert counts["promoted"] == 2
