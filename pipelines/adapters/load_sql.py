"""The SQL a load runs, per dialect (PostgreSQL, Redshift): the swap of a full refresh, the merge of an
incremental load (children too). Pure builders, used by ``pipelines.adapters.loader`` (the checksums
are ``tablesum``'s, computed by the loader as the rows pass: ``pipelines.etl.checksum``).
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql

from pipelines.adapters.warehouse import qualified
from pipelines.common.tables import TableSpec
from pipelines.etl.tables import EtlTable


def _ids(names: Iterable[str], alias: str | None = None) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(alias, n) if alias else sql.Identifier(n) for n in names)


def _key_match(key: Iterable[str], left: str, right: str) -> sql.Composed:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(left, k), sql.Identifier(right, k)) for k in key
    )


def create_table_sql(target: str, spec: TableSpec, name: str, primary_key: bool) -> sql.Composed:
    columns = [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in spec.columns]
    if primary_key:
        columns.append(sql.SQL("PRIMARY KEY ({})").format(_ids(spec.key)))
    return sql.SQL("CREATE TABLE {} ({})").format(qualified(target, name), sql.SQL(", ").join(columns))


def swap_name(table: str) -> str:
    return f"{table}__swap"


def swap_sql(target: str, table: EtlTable, dialect: str) -> list[sql.Composed]:
    """After the rows are in ``<table>__swap``: key it, drop the old table, take its name."""
    new = swap_name(table.name)
    statements: list[sql.Composed] = []
    if dialect == "postgresql":  # Redshift keys are declared at creation and not enforced
        statements.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                qualified(target, new), sql.Identifier(f"{new}_pkey"), _ids(table.key)
            )
        )
    statements.append(sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(target, table.name)))
    statements.append(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(qualified(target, new), sql.Identifier(table.name))
    )
    if dialect == "postgresql":
        statements.append(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                qualified(target, table.name),
                sql.Identifier(f"{new}_pkey"),
                sql.Identifier(f"{table.name}_pkey"),
            )
        )
    return statements


def stage_name(table: str) -> str:
    return f"_stage_{table}"


def merge_sql(target: str, table: EtlTable) -> tuple[sql.Composed, sql.Composed]:
    """(delete the target rows the staged ones replace, insert the staged rows that won)."""
    t, s = qualified(target, table.name), sql.Identifier(stage_name(table.name))
    newer: sql.Composable = sql.SQL("")
    if table.updated_column:
        newer = sql.SQL(" AND {} <= {}").format(
            sql.Identifier(table.name, table.updated_column), sql.Identifier("s", table.updated_column)
        )
    key = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(table.name, k), sql.Identifier("s", k)) for k in table.key
    )
    delete = sql.SQL("DELETE FROM {} USING {} s WHERE {}{}").format(t, s, key, newer)
    insert = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM {} s WHERE NOT EXISTS (SELECT 1 FROM {} o WHERE {})"
    ).format(
        t, _ids(table.column_names), _ids(table.column_names, "s"), s, t, _key_match(table.key, "o", "s")
    )
    return delete, insert


def merge_children_sql(
    target: str, parent: EtlTable, child: EtlTable, link: str
) -> tuple[sql.Composed, sql.Composed]:
    """Replace the children (``child.link`` = parent key) of each staged parent row that is now published."""
    assert parent.updated_column and len(parent.key) == 1
    pk, upd = parent.key[0], parent.updated_column
    pt, ps = qualified(target, parent.name), sql.Identifier(stage_name(parent.name))
    ct, cs = qualified(target, child.name), sql.Identifier(stage_name(child.name))
    taken = sql.SQL("{} = {} AND {} = {}").format(
        sql.Identifier("p", pk), sql.Identifier("s", pk), sql.Identifier("p", upd), sql.Identifier("s", upd)
    )
    delete = sql.SQL("DELETE FROM {} USING {} s, {} p WHERE {} = {} AND {}").format(
        ct, ps, pt, sql.Identifier(child.name, link), sql.Identifier("s", pk), taken
    )
    insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} c JOIN {} s ON {} = {} JOIN {} p ON {}").format(
        ct,
        _ids(child.column_names),
        _ids(child.column_names, "c"),
        cs,
        ps,
        sql.Identifier("c", link),
        sql.Identifier("s", pk),
        pt,
        taken,
    )
    return delete, insert


# -- one load ----------------------------------------------------------------------------------------
