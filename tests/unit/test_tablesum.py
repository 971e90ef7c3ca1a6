"""One definition of a table's checksum (``tablesum``): the elements, and the loader's streaming version of it
(``pipelines.etl.checksum``) giving what the values give, whatever the order and the chunking."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal as D

import pytest

from pipelines.etl.checksum import StreamChecksum
from pipelines.etl.tables import ORDER_ITEMS, ORDERS, PRODUCTS
from tablesum import TableChecksum, element, row_hash, row_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"~"),
        (True, b"1"),
        (False, b"0"),
        (-12, b"-12"),
        (D("1.50"), b"1.5"),
        (D("10.00"), b"10"),
        (D("0.00"), b"0"),
        (D("-0.500"), b"-0.5"),
        (D("120"), b"120"),
        (0.1 + 0.2, b"0.3"),
        ("", b"0:"),
        ("a|b", b"3:a|b"),
        ("NULL", b"4:NULL"),
        ("Jalapeño 緑茶", b"11:" + "Jalapeño 緑茶".encode()),
        (b"\x00\xff", b"00ff"),
        (date(2024, 5, 31), b"2024-05-31"),
        (datetime(2024, 5, 31, 13, 45), b"2024-05-31 13:45:00"),
        (datetime(2024, 5, 31, 13, 45, 0, 250000), b"2024-05-31 13:45:00.25"),
        (datetime(2024, 5, 31, 15, 45, tzinfo=timezone(timedelta(hours=2))), b"2024-05-31 13:45:00"),
        (time(13, 45, 0, 500), b"13:45:00.0005"),
    ],
)
def test_elements(value: object, expected: bytes) -> None:
    assert element(value) == expected


def test_row_hash_is_the_signed_first_64_bits_of_md5() -> None:
    assert row_hash(b"") == int.from_bytes(bytes.fromhex("d41d8cd98f00b204"), "big", signed=True)
    assert row_hash(b"1|3:abc") != row_hash(b"1|3:abd")
    assert row_text([1, None, "x"]) == b"1|~|1:x"


def test_a_checksum_is_order_independent_and_prints_and_parses() -> None:
    rows = [(i, f"v{i}", D(i) / 4) for i in range(50)]
    a, b = TableChecksum.of_rows(rows), TableChecksum.of_rows(reversed(rows))
    assert a == b == (50, a.total)
    assert TableChecksum.parse(str(a)) == a
    assert TableChecksum.parse("9f86d081884c7d65") is None  # an older loader's sha256: recomputed
    assert a.remove(TableChecksum.of_rows(rows[:10])) == TableChecksum.of_rows(rows[10:])
    assert TableChecksum.of_rows(rows[:10]).merge(TableChecksum.of_rows(rows[10:])) == a


def _batch(value: object, kind: str) -> bytes:
    """A value as the MySQL batch stream carries it (what pipelines.etl.tables selects)."""
    if value is None:
        return b"NULL"
    if kind == "bool":
        return b"1" if value else b"0"
    if kind == "text":
        text = str(value)
        if text == "NULL":
            return b"NULL\\0"
        escaped = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")
        return escaped.encode()
    if kind == "decimal":
        return str(value).encode()
    if kind == "timestamp":
        assert isinstance(value, datetime)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00").encode()
    if kind == "datetime":
        assert isinstance(value, datetime)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f").encode()
    return str(value).encode()


TEXTS = ["", "NULL", "null", "a\tb", "line\nbreak", "back\\slash\\\\", "cr\rraw", "ü 緑茶", "|~:", "x" * 300]


def _value(rng: random.Random, kind: str, nullable: bool) -> object:
    if nullable and rng.random() < 0.15:
        return None
    moment = datetime(2024, 1, 1) + timedelta(
        seconds=rng.randint(0, 10**7), microseconds=rng.choice([0, 250000, 7])
    )
    return {
        "int": lambda: rng.randint(-5, 10**12),
        "bool": lambda: rng.random() < 0.5,
        "decimal": lambda: D(rng.randint(-(10**6), 10**6)) / 100 if rng.random() < 0.9 else D("3.10"),
        "text": lambda: rng.choice(TEXTS),
        "date": lambda: moment.date(),
        "datetime": lambda: moment,
        "timestamp": lambda: moment.replace(tzinfo=UTC),
    }[kind]()


@pytest.mark.parametrize("table", [PRODUCTS, ORDERS, ORDER_ITEMS], ids=lambda t: t.name)
def test_the_stream_checksum_is_the_values_checksum_whatever_the_chunks_and_order(table) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(table.name)
    rows = [[_value(rng, c.kind, c.nullable) for c in table.columns] for _ in range(600)]
    for i, row in enumerate(rows):  # unique keys
        for k in table.key:
            row[table.column_names.index(k)] = i * 7 + table.key.index(k)
    lines = [
        b"\t".join(_batch(v, c.kind) for v, c in zip(row, table.columns, strict=True)) + b"\n" for row in rows
    ]
    order = [table.column_names.index(k) for k in table.key] + [
        i for i, n in enumerate(table.column_names) if n not in table.key
    ]
    expected = TableChecksum.of_rows([[row[i] for i in order] for row in rows])
    for chunk_rows in (1, 7, 600):
        rng.shuffle(lines)
        summed = StreamChecksum(table)
        passed = list(
            summed.tap(b"".join(lines[i : i + chunk_rows]) for i in range(0, len(lines), chunk_rows))
        )
        assert b"".join(passed) == b"".join(lines)  # the chunks go on unchanged
        assert summed.checksum == expected
    one_changed = StreamChecksum(table)
    one_changed.feed(b"".join(lines).replace(b"\t", b"\t9", 1))
    assert one_changed.checksum != expected


def test_a_chunk_that_is_not_whole_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="not rows of 11 columns"):
        StreamChecksum(PRODUCTS).feed(b"1\t2\t3\n")
