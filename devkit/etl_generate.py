"""Deterministic rows for scenario 3's source tables (pure: no I/O); ``devkit.etl_seed`` loads them.

The same ``(rows, seed, anchor)`` always gives the same rows: values drawn in a fixed order from the RNG
the caller passes (one per table), decimals built from integers. Realistic and awkward on purpose:
decimals of several scales, naive DATETIME(6) with microseconds, a TIMESTAMP(6) column (an instant),
NULLs, empty strings, the string ``'NULL'``, unicode (accents, CJK, Arabic, 4-byte emoji, combining
marks), and text with tabs, newlines, CR/LF and backslashes. ``tsv_field`` renders a value for
``LOAD DATA``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from devkit.catalog_seed import ADJECTIVES, CATEGORIES, UNKNOWN_CATEGORY_ID

STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
CURRENCIES = ("BRL", "USD", "EUR")

#: Text that breaks naive loaders: each appears in descriptions, order notes and gift messages.
TRICKY_TEXT: tuple[str, ...] = (
    "tab\tinside",
    "\ttab first",
    "tab last\t",
    "two\nlines",
    "\n",
    "windows\r\nline",
    "lone\rreturn",
    "back\\slash",
    "C:\\temp\\new\\table",
    "ends with a backslash\\",
    "\\N",
    "\\\\server\\share",
    "NULL",
    "null",
    " ",
    "quote \"double\" and 'single'",
    "emoji 😀🎉 and 緑茶",
    "Ünïcödé façade — naïve crème brûlée",
    "e\u0301 combining",
    "zero\u200bwidth",
    "عربى مرحبا",
    "pipe | semicolon ; comma ,",
    "mixed\t\\t\n\\n",
)
_NOUNS = (
    "Headphones",
    "Câmera",
    "Cafetière",
    "Kettle",
    "Dicionário",
    "Puzzle",
    "Kite",
    "Yoga Mat",
    "Garrafa d'Água",
    "Sérum",
    "Açaí Mix",
    "Green Tea 緑茶",
    "Jalapeño Sauce",
    "Planter",
    "Gnome",
)
_PHRASES = (
    "great value",
    "best seller",
    "ships in 24h",
    "edição limitada",
    "nouveau modèle",
    "100% algodão",
    "import, 2 years warranty",
    "fragile: handle with care",
)

_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
Row = tuple[object, ...]


def tsv_field(value: object) -> str:
    """One value as a ``LOAD DATA`` field (tab-separated, backslash escapes, ``\\N`` for NULL).
    A datetime is written by ``str`` (ISO with a space; microseconds when not zero)."""
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_ESCAPE)
    return str(value)


def _randint(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint`` at a third of its cost (one ``random()`` call); deterministic all the same."""
    return low + int(rng.random() * (high - low + 1))


def _money(cents: int, scale: int = 2) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    unit = 10**scale
    return f"{sign}{cents // unit}.{cents % unit:0{scale}d}"


def _text(rng: random.Random, null: float, empty: float, tricky: float) -> str | None:
    draw = rng.random()
    if draw < null:
        return None
    if draw < null + empty:
        return ""
    if draw < null + empty + tricky:
        return rng.choice(TRICKY_TEXT)
    return f"{rng.choice(ADJECTIVES)} {rng.choice(_NOUNS)}: {rng.choice(_PHRASES)}"


# -- generators: one row at a time, from one RNG per table --------------------------------------------


def generate_products(rows: int, rng: random.Random, anchor: datetime) -> Iterator[Row]:
    prefixes = {cid: prefix for cid, _, prefix, _ in CATEGORIES}
    for pid in range(1, rows + 1):
        drawn = _randint(rng, 1, len(CATEGORIES))
        category_id: int | None = drawn
        sku = f"{prefixes[drawn]}-{pid:06d}"
        draw = rng.random()
        if draw < 0.02:
            category_id = None
        elif draw < 0.03:
            category_id = UNKNOWN_CATEGORY_ID
        cost_draw = rng.random()
        cost = None if cost_draw < 0.02 else _money(0 if cost_draw < 0.025 else _randint(rng, 100, 5_000_000))
        updated_at = anchor - timedelta(seconds=_randint(rng, 1, 30 * 86_400))
        created_at = updated_at - timedelta(
            days=_randint(rng, 0, 900), microseconds=_randint(rng, 0, 999_999)
        )
        weight = None if rng.random() < 0.05 else _money(_randint(rng, 1, 80_000), 3)
        yield (
            pid,
            sku,
            f"{rng.choice(ADJECTIVES)} {rng.choice(_NOUNS)}",
            category_id,
            cost,
            _randint(rng, -5, 500),
            0 if rng.random() < 0.08 else 1,
            updated_at,
            _text(rng, null=0.10, empty=0.04, tricky=0.15),
            weight,
            created_at,
        )


def generate_categories() -> Iterator[Row]:
    for cid, name, _, margin in CATEGORIES:
        yield cid, name, format(margin, "f")


def generate_promotions(rows: int, products: int, rng: random.Random, anchor: datetime) -> Iterator[Row]:
    for pid in range(1, rows + 1):
        valid_from = (anchor + timedelta(days=_randint(rng, -30, 15))).date()
        if products and rng.random() < 0.9:
            product_id, category_id = _randint(rng, 1, products), None
        else:
            product_id, category_id = None, _randint(rng, 1, len(CATEGORIES))
        valid_to = None if rng.random() < 0.2 else valid_from + timedelta(days=_randint(rng, 0, 30))
        yield (
            pid,
            product_id,
            category_id,
            _money(rng.choice((5, 10, 15, 20, 25, 30, 40, 50)) * 100),
            valid_from,
            valid_to,
        )


def _items(rng: random.Random, order_id: int, products: int) -> list[Row]:
    lines: list[Row] = []
    for line_no in range(1, _randint(rng, 1, 5) + 1):
        discount = None if rng.random() < 0.7 else _money(_randint(rng, 1, 5000))
        gift = None if rng.random() < 0.85 else _text(rng, null=0.0, empty=0.2, tricky=0.5)
        lines.append(
            (
                order_id,
                line_no,
                _randint(rng, 1, max(1, products)),
                _randint(rng, 1, 10),
                _money(_randint(rng, 99, 250_000)),
                discount,
                gift,
            )
        )
    return lines


def order_total(items: list[Row]) -> str:
    """Sum of quantity * unit price, less each line's discount, rounded to cents (integer arithmetic)."""
    total = 0
    for _, _, _, quantity, unit_price, discount, _ in items:
        cents = int(str(unit_price).replace(".", "")) * int(str(quantity))
        off = int(str(discount).replace(".", "")) if discount is not None else 0  # percent * 100
        total += (cents * (10_000 - off) + 5_000) // 10_000
    return _money(total)


def generate_orders(
    rows: int, products: int, rng: random.Random, anchor: datetime
) -> Iterator[tuple[Row, list[Row]]]:
    """Orders with their items; ``placed_at`` over the year before ``anchor``, updated up to 20 days later."""
    for oid in range(1, rows + 1):
        items = _items(rng, oid, products)
        placed_at = anchor - timedelta(
            seconds=_randint(rng, 86_400, 365 * 86_400), microseconds=_randint(rng, 0, 999_999)
        )
        room = min(20 * 86_400, int((anchor - placed_at).total_seconds()) - 1)
        updated_at = placed_at + timedelta(
            seconds=_randint(rng, 0, room), microseconds=_randint(rng, 0, 999_999)
        )
        updated_at = min(updated_at, anchor - timedelta(microseconds=oid))  # before the anchor, and spread
        status = rng.choice(STATUSES)
        ship_date = (
            (placed_at + timedelta(days=_randint(rng, 1, 7))).date()
            if status in ("shipped", "delivered")
            else None
        )
        discount_rate = None if rng.random() < 0.6 else _money(_randint(rng, 0, 5000), 4)
        yield (
            (
                oid,
                _randint(rng, 1, max(1, rows // 3)),
                status,
                rng.choice(CURRENCIES),
                order_total(items),
                discount_rate,
                _text(rng, null=0.3, empty=0.1, tricky=0.2),
                placed_at,
                ship_date,
                updated_at,
            ),
            items,
        )
