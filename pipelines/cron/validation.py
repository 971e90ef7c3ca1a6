"""Normalize and validate one product record (pure functions, no I/O).

Normalization: SKU trimmed, upper-cased, runs of spaces/underscores/hyphens become one ``-``; name
trimmed, inner whitespace collapsed to one space, Unicode NFC; cost rounded half-up to cents.

Validation: a record is rejected with every reason that applies, as codes joined by ``,`` in the order
of ``REASONS``. A rejected record is still written (``is_valid`` false, ``reject_reason`` set), so the
bad rows are visible in the target rather than silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

#: Reject reasons, in the order they are reported.
REASONS = (
    "invalid_sku",
    "empty_name",
    "unknown_category",
    "null_cost",
    "non_positive_cost",
    "negative_stock",
)

SKU_PATTERN = r"^[A-Z0-9]+(-[A-Z0-9]+)*$"
_SKU_RE = re.compile(SKU_PATTERN)
_SKU_SEPARATORS = re.compile(r"[\s_\-]+")
_CENT = Decimal("0.01")
MAX_SKU_LENGTH = 64


@dataclass(frozen=True)
class RawProduct:
    """A product as read from the source; ``category_name`` is None when the category is unknown."""

    id: int
    sku: str | None
    name: str | None
    category_id: int | None
    category_name: str | None
    cost: Decimal | None
    stock: int | None
    active: bool
    updated_at: datetime


@dataclass(frozen=True)
class ProcessedProduct:
    """A normalized product, ready for ``processed_products``."""

    product_id: int
    sku: str
    name: str
    category_id: int | None
    category_name: str | None
    cost: Decimal | None
    stock: int
    active: bool
    source_updated_at: datetime
    is_valid: bool
    reject_reason: str | None


def normalize_sku(raw: str | None) -> str:
    """``"  ele_000123 "`` -> ``"ELE-000123"``; None -> ``""``."""
    if raw is None:
        return ""
    return _SKU_SEPARATORS.sub("-", raw.strip().upper()).strip("-")


def normalize_name(raw: str | None) -> str:
    """Trim, collapse inner whitespace, NFC. None -> ``""``."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFC", " ".join(raw.split()))


def normalize_cost(raw: Decimal | None) -> Decimal | None:
    """Round half-up to cents; None stays None."""
    return None if raw is None else Decimal(raw).quantize(_CENT, rounding=ROUND_HALF_UP)


def reject_reasons(sku: str, name: str, category_known: bool, cost: Decimal | None, stock: int) -> list[str]:
    """Every reason (codes from ``REASONS``, in that order) why a normalized record is bad."""
    reasons = []
    if not sku or len(sku) > MAX_SKU_LENGTH or not _SKU_RE.fullmatch(sku):
        reasons.append("invalid_sku")
    if not name:
        reasons.append("empty_name")
    if not category_known:
        reasons.append("unknown_category")
    if cost is None:
        reasons.append("null_cost")
    elif cost <= 0:
        reasons.append("non_positive_cost")
    if stock < 0:
        reasons.append("negative_stock")
    return reasons


def normalize_product(raw: RawProduct, categories: Mapping[int, str] | None = None) -> ProcessedProduct:
    """Normalize and validate ``raw``. The category is known when ``raw.category_name`` is set or, if
    ``categories`` is given, when ``raw.category_id`` is one of its keys."""
    sku = normalize_sku(raw.sku)
    name = normalize_name(raw.name)
    cost = normalize_cost(raw.cost)
    stock = int(raw.stock) if raw.stock is not None else 0
    category_name = raw.category_name
    if categories is not None and raw.category_id is not None:
        category_name = categories.get(raw.category_id, category_name)
    category_known = raw.category_id is not None and category_name is not None
    reasons = reject_reasons(sku, name, category_known, cost, stock)
    return ProcessedProduct(
        product_id=int(raw.id),
        sku=sku,
        name=name,
        category_id=raw.category_id,
        category_name=category_name if category_known else None,
        cost=cost,
        stock=stock,
        active=bool(raw.active),
        source_updated_at=raw.updated_at,
        is_valid=not reasons,
        reject_reason=",".join(reasons) or None,
    )
