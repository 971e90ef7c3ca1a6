"""The Redshift path of the loader: stage rows as gzipped CSV parts in S3 (boto3), then ``COPY`` them.

Selected by ``LoadConfig`` (``BRIDGE_ETL_STAGING=s3``, or ``auto`` with a ``redshift://`` warehouse URL).
Settings, from the environment:

======================  =========================================================================
``BRIDGE_ETL_S3_BUCKET``  bucket for the staged files (required)
``BRIDGE_ETL_S3_PREFIX``  key prefix (default ``bridge-etl``); each load writes under
                          ``<prefix>/<target>/<table>/<random id>/`` and deletes its files afterwards
``BRIDGE_ETL_IAM_ROLE``   the role Redshift assumes to read the bucket (preferred); without it, the
                          AWS credentials of this process are passed in the COPY (never logged)
``BRIDGE_ETL_S3_REGION``  the bucket's region, when it differs from the cluster's
``BRIDGE_ETL_S3_ENDPOINT`` another S3 endpoint for boto3 (tests, MinIO); Redshift itself needs AWS S3
``BRIDGE_ETL_S3_PART_MB`` compressed size of one part (default 16): memory stays under about twice this
======================  =========================================================================

The CSV: every non-NULL value double-quoted (quotes doubled; tabs, newlines and carriage returns kept
inside the quotes), NULL as the unquoted marker ``NULL_MARKER``, which has no backslash or quote so its
meaning does not depend on Redshift's escape rules. MySQL's batch escapes are undone field by field in
Python: slower than the PostgreSQL path, which is fine next to an S3 round trip. Not verified against a
live cluster here (none is reachable); the SQL and the files are unit-tested.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psycopg import sql

NULL_MARKER = "@@bridge-null@@"
_NULL_MARKER_BYTES = NULL_MARKER.encode()
_UNESCAPE = re.compile(rb"\\(.)", re.S)
_ESCAPES = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"0": b"\0"}


@dataclass(frozen=True)
class S3Settings:
    """Where and how to stage (see the module doc); ``repr`` never shows credentials (there are none here:
    they are read from the environment when the COPY is built)."""

    bucket: str
    prefix: str = "bridge-etl"
    iam_role: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    part_bytes: int = 16 << 20

    @classmethod
    def from_env(cls) -> S3Settings:
        bucket = os.environ.get("BRIDGE_ETL_S3_BUCKET", "").strip()
        if not bucket:
            raise ValueError("S3 staging needs BRIDGE_ETL_S3_BUCKET")
        return cls(
            bucket=bucket,
            prefix=os.environ.get("BRIDGE_ETL_S3_PREFIX", "bridge-etl").strip("/ ") or "bridge-etl",
            iam_role=os.environ.get("BRIDGE_ETL_IAM_ROLE") or None,
            region=os.environ.get("BRIDGE_ETL_S3_REGION") or None,
            endpoint_url=os.environ.get("BRIDGE_ETL_S3_ENDPOINT") or None,
            part_bytes=int(float(os.environ.get("BRIDGE_ETL_S3_PART_MB") or 16) * (1 << 20)),
        )


def _unescape(match: re.Match[bytes]) -> bytes:
    return _ESCAPES.get(match.group(1), match.group(1))


def csv_field(field: bytes) -> bytes:
    """One MySQL batch field as a Redshift CSV field."""
    if field == b"NULL":
        return _NULL_MARKER_BYTES
    if field == b"NULL\\0":  # the string 'NULL', marked by the query
        return b'"NULL"'
    if b"\\" in field:
        field = _UNESCAPE.sub(_unescape, field)
    return b'"' + field.replace(b'"', b'""') + b'"'


def to_csv(chunk: bytes) -> bytes:
    """MySQL batch rows -> CSV rows for Redshift's ``FORMAT AS CSV``."""
    lines = chunk.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(b",".join(csv_field(f) for f in line.split(b"\t")) + b"\n" for line in lines)


def credentials_sql(settings: S3Settings) -> sql.Composable:
    """``IAM_ROLE '...'``, else the process's AWS keys (``ACCESS_KEY_ID ... SECRET_ACCESS_KEY ...``)."""
    if settings.iam_role:
        return sql.SQL("IAM_ROLE {}").format(sql.Literal(settings.iam_role))
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise ValueError("S3 staging needs BRIDGE_ETL_IAM_ROLE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    parts = [sql.SQL("ACCESS_KEY_ID {} SECRET_ACCESS_KEY {}").format(sql.Literal(key), sql.Literal(secret))]
    token = os.environ.get("AWS_SESSION_TOKEN")
    if token:
        parts.append(sql.SQL("SESSION_TOKEN {}").format(sql.Literal(token)))
    return sql.SQL(" ").join(parts)


def copy_sql(
    table: sql.Composable, columns: tuple[str, ...], manifest_url: str, settings: S3Settings
) -> sql.Composable:
    """The Redshift ``COPY`` of the staged parts listed in ``manifest_url`` into ``table``."""
    region = sql.SQL(" REGION {}").format(sql.Literal(settings.region)) if settings.region else sql.SQL("")
    return sql.SQL(
        "COPY {} ({}) FROM {} {} FORMAT AS CSV GZIP MANIFEST NULL AS {} TIMEFORMAT 'auto' DATEFORMAT 'auto'"
        "{} COMPUPDATE OFF STATUPDATE OFF"
    ).format(
        table,
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.Literal(manifest_url),
        credentials_sql(settings),
        sql.Literal(NULL_MARKER),
        region,
    )


class S3Parts:
    """Gzipped CSV parts of one table in S3, then their manifest; ``delete`` removes them all."""

    def __init__(self, settings: S3Settings, label: str, client: Any = None) -> None:
        import boto3

        self.settings = settings
        self.client = client or boto3.client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region
        )
        self.base = f"{settings.prefix}/{label}/{uuid.uuid4().hex}"
        self.keys: list[str] = []
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", mtime=0)
        self._dirty = False
        self._raw = 0

    def write(self, data: bytes) -> None:
        """Add CSV rows; a part is uploaded once it holds ``part_bytes`` compressed or 8x that raw."""
        self._gzip.write(data)
        self._dirty = True
        self._raw += len(data)
        if self._buffer.tell() >= self.settings.part_bytes or self._raw >= 8 * self.settings.part_bytes:
            self._upload()

    def _upload(self) -> None:
        self._gzip.close()
        key = f"{self.base}/part-{len(self.keys):05d}.csv.gz"
        self.client.put_object(Bucket=self.settings.bucket, Key=key, Body=self._buffer.getvalue())
        self.keys.append(key)
        self._buffer = io.BytesIO()
        self._gzip = gzip.GzipFile(fileobj=self._buffer, mode="wb", mtime=0)
        self._dirty = False
        self._raw = 0

    def finish(self) -> str:
        """Upload the last part and the manifest; return the manifest's ``s3://`` URL."""
        if self._dirty or not self.keys:
            self._upload()
        manifest = {
            "entries": [{"url": f"s3://{self.settings.bucket}/{k}", "mandatory": True} for k in self.keys]
        }
        key = f"{self.base}/manifest.json"
        self.client.put_object(Bucket=self.settings.bucket, Key=key, Body=json.dumps(manifest).encode())
        self.keys.append(key)
        return f"s3://{self.settings.bucket}/{key}"

    def delete(self) -> None:
        for start in range(0, len(self.keys), 1000):
            batch = [{"Key": k} for k in self.keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.settings.bucket, Delete={"Objects": batch})
        self.keys = []


def _counted(chunks: Iterable[bytes], counter: list[int]) -> Iterator[bytes]:
    for chunk in chunks:
        counter[0] += chunk.count(b"\n")
        yield chunk


class S3Stager:
    """``Stager`` for Redshift: chunks -> CSV parts in S3 -> ``COPY ... MANIFEST``; files removed after."""

    def __init__(self, settings: S3Settings, client: Any = None) -> None:
        self.settings = settings
        self.client = client

    def stage(
        self, cur: Any, table: sql.Composable, columns: tuple[str, ...], chunks: Iterable[bytes], label: str
    ) -> int:
        parts = S3Parts(self.settings, label, self.client)
        counter = [0]
        try:
            for chunk in _counted(chunks, counter):
                parts.write(to_csv(chunk))
            cur.execute(copy_sql(table, columns, parts.finish(), self.settings))
        finally:
            parts.delete()
        return counter[0]
