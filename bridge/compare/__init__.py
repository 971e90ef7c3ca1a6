"""Comparison of two observations and their outputs: normalize, diff values, diff tables."""

from bridge.compare.model import VERDICTS, ChangedRow, Difference, TableDiff, TableSide
from bridge.compare.normalize import normalize
from bridge.compare.tables import diff_tables, table_checksum
from bridge.compare.values import diff

__all__ = [
    "VERDICTS",
    "ChangedRow",
    "Difference",
    "TableDiff",
    "TableSide",
    "diff",
    "diff_tables",
    "normalize",
    "table_checksum",
]
