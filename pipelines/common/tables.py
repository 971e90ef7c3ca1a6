"""Tables as the pipelines describe them (pure, no I/O): a warehouse table's spec, and MySQL identifier
quoting for the source side."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: name, ``(column, SQL type)`` pairs in order, and the key columns."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def key_positions(self) -> tuple[int, ...]:
        names = self.column_names
        return tuple(names.index(k) for k in self.key)


def quote_mysql(identifier: str) -> str:
    """Quote a MySQL identifier with backticks."""
    return "`" + identifier.replace("`", "``") + "`"
