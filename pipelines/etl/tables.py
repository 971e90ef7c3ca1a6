"""The tables scenario 3 moves from MySQL to the warehouse: columns, kinds, keys, and the SQL read from each.

A column's ``kind`` says how its value crosses from MySQL's text protocol to the warehouse's bulk loader:

=============  ==========================================  ===========================================
kind           selected from MySQL as                       in the warehouse
=============  ==========================================  ===========================================
``int``        the column                                  SMALLINT / INTEGER / BIGINT
``decimal``    the column (exact text, scale kept)         NUMERIC(p, s)
``text``       the column; the string ``'NULL'`` marked     VARCHAR (byte lengths: room for Redshift)
               as ``NULL`` + NUL so it is never a NULL
``bool``       ``col <> 0`` (1 / 0 / NULL)                  BOOLEAN
``datetime``   the column (naive, as stored)               TIMESTAMP
``timestamp``  ``col`` + ``'+00:00'``, session time zone    TIMESTAMPTZ (the same instant, any zone)
               ``+00:00``
``date``       the column                                  DATE
=============  ==========================================  ===========================================

The warehouse types are the common subset of PostgreSQL and Redshift, so one definition serves both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pipelines.common.tables import TableSpec, quote_mysql

KINDS = frozenset({"int", "decimal", "text", "bool", "datetime", "timestamp", "date"})


@dataclass(frozen=True)
class Column:
    """One column: its name (the same at both ends), kind, warehouse type, and whether NULL is allowed."""

    name: str
    kind: str
    warehouse_type: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")

    def select_expr(self, alias: str | None = None) -> str:
        """The MySQL expression that reads this column for the bulk loader (see the module table)."""
        ref = (f"{alias}." if alias else "") + quote_mysql(self.name)
        if self.kind == "text":
            # binary-exact under any collation; LENGTH (bytes) first spares the CAST on almost every row
            return f"IF(LENGTH({ref}) = 4 AND CAST({ref} AS BINARY) = 'NULL', CONCAT({ref}, CHAR(0)), {ref})"
        if self.kind == "bool":
            return f"({ref} <> 0)"
        if self.kind == "timestamp":
            return f"CONCAT({ref}, '+00:00')"
        return ref


@dataclass(frozen=True)
class EtlTable:
    """A source table and its warehouse twin (same name, same columns, same key)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    updated_column: str | None = None  # the incremental cursor, when the table has one

    def __post_init__(self) -> None:
        if len(self.columns) < 2:
            raise ValueError(
                f"{self.name}: at least two columns (the result framing relies on a tab per row)"
            )
        names = self.column_names
        missing = [
            k for k in (*self.key, *([self.updated_column] if self.updated_column else [])) if k not in names
        ]
        if missing:
            raise ValueError(f"{self.name}: unknown key or cursor column(s) {missing}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def spec(self) -> TableSpec:
        """The warehouse table (``pipelines.adapters.warehouse``): types with NOT NULL where the source forbids NULL."""
        return TableSpec(
            name=self.name,
            columns=tuple(
                (c.name, c.warehouse_type + ("" if c.nullable else " NOT NULL")) for c in self.columns
            ),
            key=self.key,
        )

    def select_sql(self, where: str = "", alias: str = "t", joins: str = "") -> str:
        """``SELECT <every column, converted> FROM <table> t [joins] [WHERE ...]`` (no ORDER BY: the
        loader does not care about order and InnoDB streams a full scan in key order anyway)."""
        columns = ", ".join(c.select_expr(alias) for c in self.columns)
        statement = f"SELECT {columns} FROM {quote_mysql(self.name)} {alias}"
        if joins:
            statement += f" {joins}"
        if where:
            statement += f" WHERE {where}"
        return statement


def mysql_datetime_literal(moment: datetime) -> str:
    """A naive datetime as a quoted MySQL literal with microseconds (built from digits only: safe to inline)."""
    if moment.tzinfo is not None:
        raise ValueError(f"a naive datetime is required (source DATETIME), got {moment!r}")
    return "'" + moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "'"


def _c(name: str, kind: str, warehouse_type: str, nullable: bool = True) -> Column:
    return Column(name, kind, warehouse_type, nullable)


CATEGORIES = EtlTable(
    "categories",
    (
        _c("id", "int", "INTEGER", False),
        _c("name", "text", "VARCHAR(400)", False),
        _c("margin_pct", "decimal", "NUMERIC(5,2)", False),
    ),
    key=("id",),
)

#: Scenario 1's ``products`` columns first (``devkit.catalog_seed``), then the ones ``devkit.etl_seed`` adds.
PRODUCTS = EtlTable(
    "products",
    (
        _c("id", "int", "BIGINT", False),
        _c("sku", "text", "VARCHAR(256)", False),
        _c("name", "text", "VARCHAR(1020)", False),
        _c("category_id", "int", "INTEGER"),
        _c("cost", "decimal", "NUMERIC(12,2)"),
        _c("stock", "int", "INTEGER", False),
        _c("active", "bool", "BOOLEAN", False),
        _c("updated_at", "datetime", "TIMESTAMP", False),
        _c("description", "text", "VARCHAR(65535)"),
        _c("weight_kg", "decimal", "NUMERIC(10,3)"),
        _c("created_at", "datetime", "TIMESTAMP", False),
    ),
    key=("id",),
    updated_column="updated_at",
)

PROMOTIONS = EtlTable(
    "promotions",
    (
        _c("id", "int", "INTEGER", False),
        _c("product_id", "int", "BIGINT"),
        _c("category_id", "int", "INTEGER"),
        _c("percent_off", "decimal", "NUMERIC(5,2)", False),
        _c("valid_from", "date", "DATE", False),
        _c("valid_to", "date", "DATE"),
    ),
    key=("id",),
)

ORDERS = EtlTable(
    "orders",
    (
        _c("id", "int", "BIGINT", False),
        _c("customer_id", "int", "BIGINT", False),
        _c("status", "text", "VARCHAR(64)", False),
        _c("currency", "text", "CHAR(3)", False),
        _c("total", "decimal", "NUMERIC(14,2)", False),
        _c("discount_rate", "decimal", "NUMERIC(5,4)"),
        _c("note", "text", "VARCHAR(65535)"),
        _c("placed_at", "timestamp", "TIMESTAMPTZ", False),
        _c("ship_date", "date", "DATE"),
        _c("updated_at", "datetime", "TIMESTAMP", False),
    ),
    key=("id",),
    updated_column="updated_at",
)

ORDER_ITEMS = EtlTable(
    "order_items",
    (
        _c("order_id", "int", "BIGINT", False),
        _c("line_no", "int", "SMALLINT", False),
        _c("product_id", "int", "BIGINT", False),
        _c("quantity", "int", "INTEGER", False),
        _c("unit_price", "decimal", "NUMERIC(12,2)", False),
        _c("discount_pct", "decimal", "NUMERIC(5,2)"),
        _c("gift_message", "text", "VARCHAR(800)"),
    ),
    key=("order_id", "line_no"),
)

#: Every table of the source, in load order (a full migration moves them all).
ALL_TABLES: tuple[EtlTable, ...] = (CATEGORIES, PRODUCTS, PROMOTIONS, ORDERS, ORDER_ITEMS)
BY_NAME = {t.name: t for t in ALL_TABLES}


def tables(names: Sequence[str]) -> tuple[EtlTable, ...]:
    """The tables called ``names``, in the order given."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown ETL table(s) {unknown}; known: {sorted(BY_NAME)}")
    return tuple(BY_NAME[n] for n in names)
