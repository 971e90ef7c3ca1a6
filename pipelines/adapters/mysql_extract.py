"""Stream query results out of MySQL/MariaDB in chunks of whole rows, from one consistent snapshot.

Two readers produce the same bytes, MySQL's batch format: one row per line, fields separated by tabs,
NUL / tab / newline / backslash in values escaped as ``\\0 \\t \\n \\\\``, SQL NULL written ``NULL``
(a value that *is* the string ``NULL`` arrives as ``NULL\\0``: ``pipelines.etl.tables`` selects it so).
Carriage returns pass through raw. Every raw newline ends a row, so a chunk is a run of whole rows.

- ``client`` (default when ``mariadb`` or ``mysql`` is on PATH): the command-line client with
  ``--batch --quick`` (unbuffered, ``mysql_use_result``) as a subprocess; its output is read from a pipe.
  C does the work: about three times faster than pymysql here. The password goes through ``MYSQL_PWD``
  (never the command line); ``--no-defaults`` keeps a user's option files out.
- ``pymysql``: an unbuffered ``SSCursor`` fetching raw bytes, escaped the same way in Python.

Several queries run in one session inside ``START TRANSACTION WITH CONSISTENT SNAPSHOT`` (orders and
their items are read as of the same instant). With the client, each result ends with a marker row (one
field, no tab: no data row has fewer than two fields); a result without its marker means the stream
was cut, which is an error, never a short load.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

import pymysql
import pymysql.converters
import pymysql.cursors

from pipelines.adapters.db import DatabaseUrl, connect_source, source_url
from pipelines.errors import DatabaseUrlError, ExtractError

MARKER = b"--bridge-etl-end-of-result--"
_MARKER_LINE = MARKER + b"\n"
_NL_MARKER_LINE = b"\n" + _MARKER_LINE
READERS = ("auto", "client", "pymysql")
READER_ENV = "BRIDGE_ETL_READER"
CHUNK_ENV = "BRIDGE_ETL_CHUNK_BYTES"
DEFAULT_CHUNK_BYTES = 1 << 20
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux fcntl; elsewhere the default pipe size is kept
_END = object()  # end of one result in the flat stream
#: pymysql's encoders (for its own SET statements) and no decoders: every value arrives as raw bytes.
_ENCODERS_ONLY: dict[Any, Any] = {
    k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)
}

Item = bytes | object


@dataclass(frozen=True)
class ExtractConfig:
    """How to read: ``reader`` (auto / client / pymysql) and the chunk size in bytes."""

    reader: str = "auto"
    chunk_bytes: int = DEFAULT_CHUNK_BYTES

    @classmethod
    def from_env(cls) -> ExtractConfig:
        reader = os.environ.get(READER_ENV, "auto").strip() or "auto"
        if reader not in READERS:
            raise ValueError(f"{READER_ENV}={reader!r}: expected one of {', '.join(READERS)}")
        return cls(reader, int(os.environ.get(CHUNK_ENV) or DEFAULT_CHUNK_BYTES))


def client_binary() -> str | None:
    """The MariaDB/MySQL command-line client on PATH, if any."""
    return shutil.which("mariadb") or shutil.which("mysql")


def _parse(url: str | None) -> DatabaseUrl:
    parsed = DatabaseUrl.parse(url or source_url())
    if parsed.dialect != "mysql" or not parsed.database:
        raise DatabaseUrlError(f"the source must be a mysql:// URL with a database, got {parsed.render()}")
    return parsed


def _session_sql(queries: Sequence[str]) -> list[str]:
    return [
        "SET time_zone = '+00:00'",
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT",
        *queries,
    ]


def split_result(block: bytes) -> tuple[bytes, bytes | None]:
    """``(rows before the marker line, rest after it)``; rest is None when ``block`` holds no marker line."""
    if block.startswith(_MARKER_LINE):
        return b"", block[len(_MARKER_LINE) :]
    at = block.find(_NL_MARKER_LINE)
    if at < 0:
        return block, None
    return block[: at + 1], block[at + len(_NL_MARKER_LINE) :]


class Extraction:
    """The results of ``queries``, read in order: ``for chunk in extraction.result(i)``.

    Use as a context manager; results must be consumed in order, each to its end. Leaving the block
    early stops the reader (the client is killed, the connection closed).
    """

    def __init__(self, url: str | None, queries: Sequence[str], config: ExtractConfig | None = None) -> None:
        self.url = _parse(url)
        self.queries = list(queries)
        self.config = config or ExtractConfig.from_env()
        reader = self.config.reader
        if reader == "auto":
            reader = "client" if client_binary() else "pymysql"
        elif reader == "client" and not client_binary():
            raise ExtractError("reader 'client' asked for, but neither mariadb nor mysql is on PATH")
        self.reader = reader
        self._next = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._conn: pymysql.connections.Connection | None = None
        self._stream: Iterator[Item] | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Extraction:
        self._stream = self._client_stream() if self.reader == "client" else self._pymysql_stream()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            assert self._proc.stdout is not None
            self._proc.stdout.close()
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._conn is not None:
            with contextlib.suppress(pymysql.Error):
                self._conn.close()
            self._conn = None

    # -- consumption -----------------------------------------------------------------------------
    def result(self, index: int) -> Iterator[bytes]:
        """The chunks (whole rows, MySQL batch format) of query ``index``."""
        if self._stream is None:
            raise RuntimeError("use Extraction as a context manager")
        if index != self._next:
            raise RuntimeError(f"results are read in order: expected {self._next}, asked for {index}")
        self._next += 1
        for item in self._stream:
            if item is _END:
                return
            yield item  # type: ignore[misc]
        raise ExtractError(
            f"the source stream ended inside result {index} ({self.queries[index][:80]}...): "
            f"{self._failure()}"
        )

    def finish(self) -> None:
        """Check that the whole extraction ended cleanly (call after the last result)."""
        assert self._stream is not None
        leftover = next(self._stream, None)
        if leftover is not None:
            raise ExtractError(f"unexpected output after the last result: {leftover!r:.80}")
        if self._proc is not None:
            code = self._proc.wait()
            if code != 0:
                raise ExtractError(
                    f"{cast(list[str], self._proc.args)[0]} exited with {code}: {self._failure()}"
                )

    def _failure(self) -> str:
        if self._proc is not None:
            code = self._proc.wait()
            assert self._stderr is not None
            self._stderr.seek(0)
            message = self._stderr.read().decode("utf-8", "replace").strip()
            return message or f"client exit code {code}"
        return "connection closed"

    # -- the client reader -------------------------------------------------------------------------
    def client_argv(self) -> list[str]:
        binary = client_binary()
        assert binary is not None
        parsed = self.url
        script = (
            ";\n".join(_session_sql([f"{q};\nSELECT '{MARKER.decode()}'" for q in self.queries]))
            + ";\nCOMMIT;"
        )
        return [
            binary,
            "--no-defaults",
            "--batch",
            "--quick",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
            "--protocol=TCP",
            f"--host={parsed.host}",
            f"--port={parsed.port}",
            f"--user={parsed.username or 'root'}",
            f"--database={parsed.database}",
            f"--execute={script}",
        ]

    def _client_stream(self) -> Iterator[Item]:
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if self.url.password:
            env["MYSQL_PWD"] = self.url.password
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._proc = subprocess.Popen(
            self.client_argv(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            bufsize=0,
        )
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
        return self._frame(fd)

    def _frame(self, fd: int) -> Iterator[Item]:
        """Chunks of about ``chunk_bytes`` (whole rows), and ``_END`` at each marker line."""
        chunk_bytes = self.config.chunk_bytes
        read_bytes = min(_PIPE_BYTES, chunk_bytes)  # so a chunk is about chunk_bytes, not just at least that
        pending = bytearray()
        while True:
            data = os.read(fd, read_bytes)
            if data:
                pending += data
                if len(pending) < chunk_bytes and MARKER not in data:
                    continue
            cut = pending.rfind(b"\n") + 1
            block, pending = bytes(pending[:cut]), pending[cut:]
            while block:
                rows, rest = split_result(block)
                if rows:
                    yield rows
                if rest is None:
                    break
                yield _END
                block = rest
            if not data:
                if pending:
                    yield bytes(pending)  # a cut row: result() reports the stream as broken
                return

    # -- the pymysql reader --------------------------------------------------------------------------
    def _pymysql_stream(self) -> Iterator[Item]:
        self._conn = connect_source(
            self.url.render(hide_password=False),
            use_unicode=False,
            conv=_ENCODERS_ONLY,
            cursorclass=pymysql.cursors.SSCursor,
        )
        return self._pymysql_rows(self._conn)

    def _pymysql_rows(self, conn: pymysql.connections.Connection) -> Iterator[Item]:
        chunk_bytes = self.config.chunk_bytes
        try:
            with conn.cursor() as cur:
                for statement in _session_sql([]):
                    cur.execute(statement)
                for query in self.queries:
                    cur.execute(query)
                    lines: list[bytes] = []
                    size = 0
                    while True:
                        rows = cur.fetchmany(2000)
                        if not rows:
                            break
                        for row in rows:
                            line = b"\t".join(_escape(v) for v in row)
                            lines.append(line)
                            size += len(line) + 1
                        if size >= chunk_bytes:
                            yield b"\n".join(lines) + b"\n"
                            lines, size = [], 0
                    if lines:
                        yield b"\n".join(lines) + b"\n"
                    yield _END
            conn.commit()
        except pymysql.Error as exc:
            raise ExtractError(f"source query failed: {exc}") from exc


def _escape(value: bytes | None) -> bytes:
    """One raw value in MySQL batch format (as the command-line client writes it)."""
    if value is None:
        return b"NULL"
    if b"\\" in value:
        value = value.replace(b"\\", b"\\\\")
    if b"\t" in value:
        value = value.replace(b"\t", b"\\t")
    if b"\n" in value:
        value = value.replace(b"\n", b"\\n")
    if b"\0" in value:
        value = value.replace(b"\0", b"\\0")
    return value
