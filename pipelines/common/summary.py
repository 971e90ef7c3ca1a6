"""The run summary both orchestrators return, and the checksum of the rows a run wrote.

The summary is the XCom ``return_value`` of a DAG's last task and the result of the Prefect flow, so it
must be identical for identical work, and JSON-serialisable (no ``Decimal``, ``date`` or ``datetime``).

Checksum rule (``checksum_rows``): each row becomes one line, the JSON array of its canonical values
(``ensure_ascii=False``, no spaces); lines are sorted by the row's key; the checksum is
``sha256`` of ``header + "\\n" + lines joined by "\\n"`` in UTF-8, where the header is the JSON array of
column names. Canonical values: ``None`` -> ``null``; ``bool`` -> ``true``/``false``; ``int`` ->
number; ``Decimal`` -> string in plain notation with trailing zeros removed (``10.90`` -> ``"10.9"``,
so the column's scale does not matter); ``float`` -> ``repr`` string; ``date`` -> ISO string;
naive ``datetime`` -> ISO string; aware ``datetime`` -> ISO string in UTC; ``str`` -> itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

#: Keys every summary starts with, in this order; counts and the checksum follow.
HEADER_KEYS = ("workflow", "business_date", "target")

JsonValue = Any


def canonical_value(value: object) -> JsonValue:
    """The JSON-safe canonical form of one column value (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        if value.is_zero():
            return "0"
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def canonical_row(row: Sequence[object]) -> str:
    """One row as its canonical JSON line."""
    return json.dumps([canonical_value(v) for v in row], ensure_ascii=False, separators=(",", ":"))


def checksum_rows(columns: Sequence[str], rows: Iterable[Sequence[object]], key: Sequence[int] = (0,)) -> str:
    """``sha256`` hex digest of ``rows`` sorted by the columns at positions ``key``.

    Keys must be comparable and not NULL (they are primary-key columns).
    """
    ordered = sorted(rows, key=lambda row: tuple(row[i] for i in key))
    digest = hashlib.sha256()
    digest.update(json.dumps(list(columns), separators=(",", ":")).encode("utf-8"))
    for row in ordered:
        digest.update(b"\n")
        digest.update(canonical_row(row).encode("utf-8"))
    return digest.hexdigest()


def combine_checksums(parts: Mapping[str, str]) -> str:
    """One checksum over several named checksums (e.g. one per table), independent of mapping order."""
    text = "\n".join(f"{name}:{parts[name]}" for name in sorted(parts))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_header(workflow: str, business_date: date, target: str) -> dict[str, str]:
    """The identity of a run: what both ``resolve_run`` tasks return and every summary starts with."""
    return {"workflow": workflow, "business_date": business_date.isoformat(), "target": target}


def build_summary(
    workflow: str,
    business_date: date,
    target: str,
    counts: Mapping[str, int],
    checksum: str,
    **extra: JsonValue,
) -> dict[str, JsonValue]:
    """The summary dict: header keys, then ``counts`` (sorted by name), ``extra``, then ``checksum``.

    ``extra`` values are passed through ``canonical_value`` so dates and decimals become strings
    (a mapping value has each of its values passed through it, its keys made strings).
    """
    summary: dict[str, JsonValue] = dict(run_header(workflow, business_date, target))
    for name in sorted(counts):
        count = counts[name]
        if not isinstance(count, int) or isinstance(count, bool):
            raise TypeError(f"count {name!r} must be an int, got {count!r}")
        summary[name] = count
    for name, value in extra.items():
        if isinstance(value, Mapping):
            summary[name] = {str(k): canonical_value(v) for k, v in value.items()}
        else:
            summary[name] = canonical_value(value)
    summary["checksum"] = checksum
    json.dumps(summary)  # fail here, not in an orchestrator's serializer
    return summary
