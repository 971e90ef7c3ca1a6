"""SQL per database engine for the table diff: canonical row text and a 64-bit row hash.

The definition (elements, row text, hash, a table's checksum) is :mod:`tablesum`'s, shared with the ETL
loader that computes the same checksum in Python as rows stream past; this module renders it in SQL.

The table diff compares a table in one database with a table in another, possibly of another engine, by
hashes computed inside each database. That only works if both engines turn the same values into the same
text, byte for byte. Each column is first rendered as *canonical text*:

=============  ===========================================================================================
category       canonical text (the same in every engine)
=============  ===========================================================================================
``int``        decimal digits: ``-12``
``decimal``    the value with trailing fractional zeros dropped: ``1.50`` → ``1.5``, ``10.00`` → ``10``
``float``      rounded to ``FLOAT_DECIMALS`` places, then as ``decimal``
``bool``       ``1`` / ``0``
``date``       ``2024-05-31``
``timestamp``  ``2024-05-31 13:45:00`` or ``2024-05-31 13:45:00.25`` (ISO, no zone; zoned types in UTC)
``time``       ``13:45:00`` or ``13:45:00.25``
``bytes``      lower-case hex
``text``       the string itself (everything else: varchar, char, enum, uuid, json...)
=============  ===========================================================================================

A column whose categories differ between the sides is rendered by value where that makes sense (an
integer and a decimal compare as numbers; a float against anything numeric is rounded on both sides).
Each canonical text becomes an *element*: ``~`` for NULL, the text itself for numbers and dates (which
contain neither ``|`` nor ``~``), and ``<length>:<text>`` for strings, so NULL, ``''`` and any string
containing the separator stay distinct. A row's text is its key elements then its compared elements,
joined by ``|``; its hash is the first 64 bits of ``md5`` of that text as a signed integer, and a group
checksum is the exact sum of those hashes (``NUMERIC`` / ``DECIMAL``: no overflow).

One class per engine, picked by URL scheme from ``DIALECTS`` (PostgreSQL, MySQL/MariaDB, Redshift);
opening a session on one is :mod:`bridge.compare.connections`' job.
The Redshift SQL follows Redshift's documented functions but has not been run against a cluster here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tablesum import FLOAT_DECIMALS, NULL_MARK, SEPARATOR

__all__ = ["DIALECTS", "FLOAT_DECIMALS", "Column", "Dialect", "MySQL", "Postgres", "Redshift", "element_kind"]

INT, DECIMAL, FLOAT, BOOL, DATE, TIMESTAMP, TIMESTAMPTZ, TIME, BYTES, TEXT = (
    "int",
    "decimal",
    "float",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "bytes",
    "text",
)
_NUMERIC = {INT, DECIMAL, FLOAT, BOOL}


@dataclass(frozen=True)
class Column:
    """A column as the database describes it: its name, its type name, and our category for it."""

    name: str
    type_name: str
    category: str


def element_kind(airflow: str, prefect: str) -> str:
    """How a column is rendered on both sides, from its two categories.

    ``float`` if either side is a float and both are numeric, ``number`` if both are numeric, ``text``
    (length-prefixed) if either side is text, else ``plain`` (each side's own canonical text)."""
    if airflow in _NUMERIC and prefect in _NUMERIC:
        return "float" if FLOAT in (airflow, prefect) else "number"
    if TEXT in (airflow, prefect):
        return "text"
    return "plain"


class Dialect:
    """The SQL one engine needs. Subclasses fill in the engine-specific pieces."""

    name = ""
    placeholder = "%s"

    # -- identifiers and catalog --------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        raise NotImplementedError

    def table(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}"

    def columns_sql(self) -> str:
        """Two parameters (schema, table); rows of (column name, type name, full type)."""
        return (
            "SELECT column_name, data_type, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position"
        )

    def category(self, data_type: str, full_type: str) -> str:
        raise NotImplementedError

    def stats_sql(self, schema: str, table: str, key: str | None) -> tuple[str, tuple[Any, ...]]:
        """(min key, max key, estimated row count) — min/max only when ``key`` is given (index probes)."""
        raise NotImplementedError

    # -- canonical text -----------------------------------------------------------------------------
    def canonical(self, column: str, category: str, kind: str) -> str:
        raise NotImplementedError

    def element(self, column: Column, kind: str) -> str:
        text = self.canonical(self.quote(column.name), column.category, kind)
        if kind == "text":
            return self.coalesce(self.concat([f"CHAR_LENGTH({text})", "':'", text]))
        return self.coalesce(text)

    def coalesce(self, expr: str) -> str:
        return f"COALESCE({expr}, '{NULL_MARK}')"

    def concat(self, parts: Sequence[str]) -> str:
        return " || ".join(parts)

    def joined(self, elements: Sequence[str]) -> str:
        parts: list[str] = []
        for i, element in enumerate(elements):
            if i:
                parts.append(f"'{SEPARATOR}'")
            parts.append(element)
        return self.concat(parts) if len(parts) > 1 else parts[0]

    def row_hash(self, text: str) -> str:
        """A signed 64-bit integer from the first 16 hex digits of md5(text)."""
        raise NotImplementedError

    def md5_prefix(self, text: str, digits: int) -> str:
        return f"SUBSTR(MD5({text}), 1, {int(digits)})"

    def int_div(self, column: str, width: int) -> str:
        """Integer division truncated toward zero (as both engines do)."""
        raise NotImplementedError

    def session_sql(self) -> list[str]:
        """Statements that make the session render values canonically (time zone, date style...)."""
        return []


class Postgres(Dialect):
    name = "postgresql"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def columns_sql(self) -> str:
        # pg_catalog, not information_schema: the same names, ten times faster on a busy catalog; the
        # parameters cast to `name`, so the catalog indexes serve them; ordered by the caller (attnum,
        # the 4th column), since the session's enable_sort = off would turn ORDER BY into a catalog scan.
        return (
            "SELECT a.attname, format_type(a.atttypid, NULL), format_type(a.atttypid, a.atttypmod), a.attnum"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s::name AND c.relname = %s::name AND a.attnum > 0 AND NOT a.attisdropped"
            " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        )

    def category(self, data_type: str, full_type: str) -> str:
        t = data_type.lower()
        if t in ("smallint", "integer", "bigint"):
            return INT
        if t in ("numeric", "decimal"):
            return DECIMAL
        if t in ("real", "double precision"):
            return FLOAT
        return {
            "boolean": BOOL,
            "date": DATE,
            "timestamp without time zone": TIMESTAMP,
            "timestamp with time zone": TIMESTAMPTZ,
            "time without time zone": TIME,
            "bytea": BYTES,
        }.get(t, TEXT)

    def stats_sql(self, schema: str, table: str, key: str | None) -> tuple[str, tuple[Any, ...]]:
        rel = self.table(schema, table)
        estimate = "(SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass)"
        if key is None:
            return f"SELECT NULL, NULL, {estimate}", (rel,)
        k = self.quote(key)
        return f"SELECT (SELECT min({k}) FROM {rel}), (SELECT max({k}) FROM {rel}), {estimate}", (rel,)

    def canonical(self, column: str, category: str, kind: str) -> str:
        if kind == "float":
            # real goes through float8: real::numeric keeps only 6 significant digits, MySQL keeps them all.
            column = {BOOL: f"({column})::int", FLOAT: f"({column})::float8"}.get(category, column)
            return f"trim_scale(round(({column})::numeric, {FLOAT_DECIMALS}))::text"
        if category == DECIMAL:
            return self.trim_decimal(f"({column})::numeric")
        if category == BOOL:
            return f"({column})::int::text"
        if category == TIMESTAMPTZ:
            return f"({column} AT TIME ZONE 'UTC')::text"
        if category == BYTES:
            return f"encode({column}, 'hex')"
        return f"({column})::text"  # int, date, timestamp, time, text: ISO DateStyle is set per session

    def trim_decimal(self, value: str) -> str:
        return f"trim_scale({value})::text"

    def row_hash(self, text: str) -> str:
        return f"('x' || substr(md5({text}), 1, 16))::bit(64)::bigint"

    def int_div(self, column: str, width: int) -> str:
        return f"({column} / {int(width)})"

    def session_sql(self) -> list[str]:
        # enable_sort/parallel_tuple_cost: the planner over-estimates the groups of ``key / width`` (it
        # takes the key's distinct count) and would sort the whole table; a hash aggregate is right here.
        return [
            "SET TIME ZONE 'UTC'",
            "SET DateStyle = 'ISO, YMD'",
            "SET IntervalStyle = 'postgres'",
            "SET enable_sort = off",
            "SET parallel_tuple_cost = 0",
        ]


class Redshift(Postgres):
    """Redshift: PostgreSQL 8 wire and syntax, without ``trim_scale``, the ``bit`` type or ``bytea``."""

    name = "redshift"

    def trim_decimal(self, value: str) -> str:
        s = f"({value})::varchar"
        return f"(CASE WHEN {s} LIKE '%%.%%' THEN RTRIM(RTRIM({s}, '0'), '.') ELSE {s} END)"

    def canonical(self, column: str, category: str, kind: str) -> str:
        if kind == "float":
            return self.trim_decimal(f"round(({column})::numeric(38, 12), {FLOAT_DECIMALS})")
        if category == BYTES:
            return f"to_hex({column})"
        return super().canonical(column, category, kind)

    def row_hash(self, text: str) -> str:
        m = f"md5({text})"
        return (
            f"(CAST(STRTOL(SUBSTRING({m}, 1, 8), 16) AS DECIMAL(38, 0)) * 4294967296"
            f" + STRTOL(SUBSTRING({m}, 9, 8), 16)"
            f" - CASE WHEN SUBSTRING({m}, 1, 1) >= '8' THEN 18446744073709551616 ELSE 0 END)"
        )

    def columns_sql(self) -> str:
        return Dialect.columns_sql(self)

    def session_sql(self) -> list[str]:
        return ["SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'"]


class MySQL(Dialect):
    name = "mysql"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def columns_sql(self) -> str:
        return (
            "SELECT column_name, data_type, column_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position"
        )

    def category(self, data_type: str, full_type: str) -> str:
        t = data_type.lower()
        if t in ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "bit"):
            return INT
        if t in ("decimal", "numeric"):
            return DECIMAL
        if t in ("float", "double", "real"):
            return FLOAT
        if t in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
            return BYTES
        return {"date": DATE, "datetime": TIMESTAMP, "timestamp": TIMESTAMPTZ, "time": TIME}.get(t, TEXT)

    def stats_sql(self, schema: str, table: str, key: str | None) -> tuple[str, tuple[Any, ...]]:
        estimate = (
            "(SELECT table_rows FROM information_schema.tables WHERE table_schema = %s AND table_name = %s)"
        )
        if key is None:
            return f"SELECT NULL, NULL, {estimate}", (schema, table)
        k, rel = self.quote(key), self.table(schema, table)
        return (
            f"SELECT (SELECT MIN({k}) FROM {rel}), (SELECT MAX({k}) FROM {rel}), {estimate}",
            (schema, table),
        )

    def canonical(self, column: str, category: str, kind: str) -> str:
        if kind == "float":
            return self.utf8(self.trim_decimal(f"CAST({column} AS DECIMAL(65, {FLOAT_DECIMALS}))"))
        if category == DECIMAL:
            return self.utf8(self.trim_decimal(column))
        if category == INT:
            return self.utf8(f"CAST({column} + 0 AS CHAR)")  # + 0: BIT columns as numbers
        if category in (TIMESTAMP, TIMESTAMPTZ):  # TIMESTAMP is shown in the session zone: UTC
            return self.utf8(self.trim_fraction(f"DATE_FORMAT({column}, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')"))
        if category == TIME:
            return self.utf8(self.trim_fraction(f"TIME_FORMAT({column}, '%%H:%%i:%%s.%%f')"))
        if category == DATE:
            return self.utf8(f"DATE_FORMAT({column}, '%%Y-%%m-%%d')")
        if category == BYTES:
            return self.utf8(f"LOWER(HEX({column}))")
        return self.utf8(column)

    @staticmethod
    def utf8(expr: str) -> str:
        # One charset and one explicit collation: md5 sees UTF-8 bytes, CONCAT never mixes collations.
        return f"CONVERT({expr} USING utf8mb4) COLLATE utf8mb4_bin"

    @staticmethod
    def trim_decimal(value: str) -> str:
        s = f"CAST({value} AS CHAR)"
        return f"IF(LOCATE('.', {s}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {s})), {s})"

    @staticmethod
    def trim_fraction(text: str) -> str:
        return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"

    def concat(self, parts: Sequence[str]) -> str:
        return f"CONCAT({', '.join(parts)})"

    def row_hash(self, text: str) -> str:
        return f"CAST(CAST(CONV(SUBSTRING(MD5({text}), 1, 16), 16, 10) AS UNSIGNED) AS SIGNED)"

    def int_div(self, column: str, width: int) -> str:
        return f"({column} DIV {int(width)})"

    def session_sql(self) -> list[str]:
        return [
            "SET time_zone = '+00:00'",
            "SET NAMES utf8mb4",
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        ]


DIALECTS: dict[str, type[Dialect]] = {"postgresql": Postgres, "redshift": Redshift, "mysql": MySQL}
