"""The target: the PostgreSQL schema a run writes into, validated before it reaches any SQL."""

from __future__ import annotations

import re

from pipelines.errors import InvalidTargetError

#: Lower-case SQL identifier, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1). Upper case is refused
#: rather than folded so that ``Shadow`` and ``shadow`` can never name two different targets.
TARGET_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"

_TARGET_RE = re.compile(TARGET_PATTERN)
_RESERVED_PREFIXES = ("pg_",)
_RESERVED_NAMES = frozenset({"information_schema"})

#: What the DAGs and flows write to unless told otherwise.
DEFAULT_TARGET = "warehouse"


def validate_target(target: object) -> str:
    """Return ``target`` unchanged if it is a safe, non-system schema name; raise otherwise."""
    if not isinstance(target, str) or not _TARGET_RE.fullmatch(target):
        raise InvalidTargetError(
            f"invalid target {target!r}: expected a lower-case schema name matching {TARGET_PATTERN}"
        )
    if target in _RESERVED_NAMES or target.startswith(_RESERVED_PREFIXES):
        raise InvalidTargetError(f"invalid target {target!r}: reserved for the database system")
    return target
