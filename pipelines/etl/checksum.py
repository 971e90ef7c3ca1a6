"""A table's checksum (``tablesum``) computed from the rows as they stream past the loader.

The loader moves MySQL batch rows (``pipelines.adapters.mysql_extract``: tab-separated, ``\\0 \\t \\n
\\\\`` escaped, SQL NULL as ``NULL``, the string ``NULL`` marked ``NULL\\0``) into the warehouse. Each row is
turned into its ``tablesum`` text here, the value the warehouse will hold rendered per column kind
(``pipelines.etl.tables``), and hashed: the sum over the rows is the checksum ``bridge``'s table diff
computes over the loaded table, without reading the table again.

=============  ===============================================================
kind           MySQL batch field → element
=============  ===============================================================
``int``        unchanged
``bool``       unchanged (selected as ``col <> 0``: ``1`` / ``0``)
``date``       unchanged (``2024-05-31``)
``decimal``    trailing fractional zeros dropped (``10.50`` → ``10.5``)
``datetime``   the same for the microseconds (``…:00.250000`` → ``…:00.25``)
``timestamp``  the ``+00:00`` the select adds removed, then as ``datetime``
``text``       unescaped, then ``<length in characters>:<text>``
=============  ===============================================================
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Iterator
from hashlib import md5
from itertools import repeat
from operator import itemgetter, methodcaller

from pipelines.etl.tables import EtlTable
from tablesum import NULL_MARK, SEPARATOR, TableChecksum, trim_fraction

_NULL_FIELD = b"NULL"
_MARKED_NULL = b"NULL\\0"  # the string 'NULL', as pipelines.etl.tables selects it
_NULL = NULL_MARK.encode()
_SEP = SEPARATOR.encode()
_UNESCAPE = {b"0": b"\0", b"t": b"\t", b"n": b"\n", b"\\": b"\\", b"r": b"\r"}
_DIGEST = methodcaller("digest")
_FIRST = itemgetter(0)
_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)


def _unescape(field: bytes) -> bytes:
    if field == _MARKED_NULL:
        return _NULL_FIELD
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), field)


def _nulls(column: list[bytes], rendered: list[bytes]) -> list[bytes]:
    """``rendered`` with ``~`` where ``column`` held SQL NULL."""
    if _NULL_FIELD not in column:
        return rendered
    return [_NULL if f == _NULL_FIELD else r for f, r in zip(column, rendered, strict=True)]


def _plain(column: list[bytes]) -> list[bytes]:
    return _nulls(column, column)


def _number(column: list[bytes]) -> list[bytes]:
    """Trailing fractional zeros dropped; at C speed (``map``) when every non-NULL field has a dot."""
    dots = b"\t".join(column).count(b".")
    if not dots:  # no fraction anywhere (DATETIME without microseconds): as it is
        return _nulls(column, column)
    if dots + column.count(_NULL_FIELD) != len(column):
        return [trim_fraction(f) if f != _NULL_FIELD else _NULL for f in column]
    trimmed = list(map(bytes.rstrip, map(bytes.rstrip, column, repeat(b"0")), repeat(b".")))
    return _nulls(column, trimmed)


def _timestamp(column: list[bytes]) -> list[bytes]:
    return _number(list(map(bytes.removesuffix, column, repeat(b"+00:00"))))


def _text(column: list[bytes]) -> list[bytes]:
    """``<length in characters>:<text>``, unescaped; lengths from the bytes when the column is ASCII."""
    joined = b"\t".join(column)
    values = [_unescape(f) if b"\\" in f else f for f in column] if b"\\" in joined else column
    lengths = map(len, values) if joined.isascii() else map(len, map(bytes.decode, values))
    return _nulls(column, list(map(b"%d:%s".__mod__, zip(lengths, values, strict=True))))


#: kind -> how a whole column of batch fields becomes elements
_RENDER: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "int": _plain,
    "bool": _plain,
    "date": _plain,
    "decimal": _number,
    "datetime": _number,
    "timestamp": _timestamp,
    "text": _text,
}


class StreamChecksum:
    """Hashes the rows of one table's batch chunks as they pass (``feed``); ``checksum`` at the end."""

    def __init__(self, table: EtlTable) -> None:
        names = table.column_names
        order = [names.index(k) for k in table.key] + [i for i, n in enumerate(names) if n not in table.key]
        self.width = len(names)
        self.renders = [(i, _RENDER[table.columns[i].kind]) for i in order]
        self.count = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Fold in the whole rows of one chunk (newline-terminated, as the extraction yields them).

        Column by column: one split of the chunk into fields, each column sliced out and rendered in one
        list comprehension, the rows' texts joined by ``map`` and their hashes summed from one buffer of
        md5 prefixes (about 1.5 µs a row of ``products`` here, against 6 µs a row one at a time)."""
        if not chunk:
            return
        fields = chunk[:-1].replace(b"\n", b"\t").split(b"\t")
        width = self.width
        rows = len(fields) // width
        if rows * width != len(fields):
            raise ValueError(f"a chunk of {len(fields)} fields is not rows of {width} columns")
        columns = [render(fields[i::width]) for i, render in self.renders]
        texts = map(_SEP.join, zip(*columns, strict=True))
        digests = b"".join(map(_DIGEST, map(md5, texts)))  # 16 bytes a row: the first 8 are its hash
        self.count += rows
        self.total += sum(map(_FIRST, struct.iter_unpack(">q8x", digests)))

    def tap(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks`` unchanged, each fed on its way through."""
        for chunk in chunks:
            self.feed(chunk)
            yield chunk

    @property
    def checksum(self) -> TableChecksum:
        return TableChecksum(self.count, self.total)
