"""A table's checksum: the one definition the ETL loader (``pipelines``) and the table diff (``bridge``)
both use, so the checksum an ETL run reports is the one a diff of its table computes.

A top-level package of its own because neither side may import the other (import-linter contracts in
pyproject.toml); it imports nothing but the standard library.

- Each value becomes an *element*: ``~`` for NULL; numbers as decimal text with trailing fractional zeros
  dropped (``1.50`` → ``1.5``, ``10.00`` → ``10``; floats first rounded to ``FLOAT_DECIMALS`` places);
  booleans ``1`` / ``0``; dates ``2024-05-31``; timestamps ``2024-05-31 13:45:00`` or
  ``2024-05-31 13:45:00.25`` (no zone; a zoned one in UTC); bytes as lower-case hex; strings as
  ``<length in characters>:<text>`` (so NULL, ``''`` and a string holding the separator stay distinct).
- A row's text is its key elements, then its other compared columns' elements, joined by ``|``.
- A row's hash is the first 64 bits of the md5 of that text (UTF-8), as a signed integer.
- A table's checksum is ``(row count, exact sum of its row hashes)``: order-independent, so rows may be
  added in any order, one at a time (``TableChecksum.of_rows``, ``merge``) or as per-bucket sums from a database.

``bridge.compare.dialects`` renders the same elements in SQL for each database engine (the diff hashes
inside each database); the loader hashes the rows in Python as they stream past. Tests hold the SQL and
the Python renderings equal on real PostgreSQL and MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from hashlib import md5
from typing import NamedTuple

__all__ = [
    "FLOAT_DECIMALS",
    "NULL_MARK",
    "SEPARATOR",
    "TableChecksum",
    "element",
    "row_hash",
    "row_text",
    "text_element",
    "trim_fraction",
]

FLOAT_DECIMALS = 6
NULL_MARK = "~"
SEPARATOR = "|"
_NULL = NULL_MARK.encode()
_SEP = SEPARATOR.encode()
_FLOAT_STEP = Decimal(1).scaleb(-FLOAT_DECIMALS)


def row_hash(text: bytes) -> int:
    """A row's hash: the first 64 bits of ``md5(text)`` as a signed integer."""
    return int.from_bytes(md5(text).digest()[:8], "big", signed=True)


def trim_fraction(text: bytes) -> bytes:
    """``1.50`` → ``1.5``, ``10.00`` → ``10``, ``13:45:00.250000`` → ``13:45:00.25``; no dot: unchanged."""
    if b"." not in text:
        return text
    return text.rstrip(b"0").rstrip(b".")


def text_element(text: bytes) -> bytes:
    """A string's element from its UTF-8 bytes: ``<length in characters>:<text>``."""
    length = len(text) if text.isascii() else len(text.decode("utf-8"))
    return b"%d:%s" % (length, text)


def element(value: object) -> bytes:
    """One Python value's element (as a database driver returns it: int, Decimal, float, bool, str,
    bytes, date, datetime, time or None)."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, float):  # as PostgreSQL's round(x::numeric, 6): 15 significant digits, half up
        value = Decimal(f"{value:.15g}").quantize(_FLOAT_STEP, rounding=ROUND_HALF_UP)
    if isinstance(value, Decimal):
        return trim_fraction(format(value, "f").encode())
    if isinstance(value, str):
        return text_element(value.encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex().encode()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return trim_fraction(value.isoformat(" ", "microseconds").encode())
    if isinstance(value, date | time):
        if isinstance(value, time):
            return trim_fraction(value.replace(tzinfo=None).isoformat("microseconds").encode())
        return value.isoformat().encode()
    return text_element(str(value).encode())


def row_text(values: Sequence[object]) -> bytes:
    """A row's text from its values, key columns first."""
    return _SEP.join(element(v) for v in values)


class TableChecksum(NamedTuple):
    """``(rows, total)``: the row count and the exact sum of their hashes. Equal to a plain tuple of both."""

    rows: int = 0
    total: int = 0

    def remove(self, other: TableChecksum) -> TableChecksum:
        """This checksum without the rows of ``other`` (rows deleted from the table)."""
        return TableChecksum(self.rows - other.rows, self.total - other.total)

    def merge(self, other: TableChecksum) -> TableChecksum:
        return TableChecksum(self.rows + other.rows, self.total + other.total)

    @classmethod
    def of_rows(cls, rows: Iterable[Sequence[object]]) -> TableChecksum:
        """The checksum of rows of Python values (key columns first in each)."""
        count = total = 0
        for row in rows:
            count += 1
            total += row_hash(row_text(row))
        return cls(count, total)

    def __str__(self) -> str:
        """``<count>:<total>``, the form run summaries and ``etl_state`` carry."""
        return f"{self.rows}:{self.total}"

    @classmethod
    def parse(cls, text: str | None) -> TableChecksum | None:
        """The checksum ``str`` wrote, or None for anything else (e.g. an older format)."""
        count, sep, total = (text or "").partition(":")
        try:
            return cls(int(count), int(total)) if sep else None
        except ValueError:
            return None
