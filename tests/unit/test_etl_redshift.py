"""The Redshift path (S3 staging + COPY) against moto's in-process S3 and a recording cursor."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql

from pipelines.adapters.redshift import NULL_MARKER, S3Parts, S3Settings, S3Stager, copy_sql, to_csv

BUCKET = "bridge-etl-test"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    moto = pytest.importorskip("moto")
    import boto3

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_csv_undoes_mysql_escapes_and_keeps_null_apart_from_strings() -> None:
    chunk = (
        b"1\tplain\tNULL\tNULL\\0\t\n"
        b'2\ttab\\there\tline\\nbreak\tback\\\\slash \\\\t\tsay "hi"\r\n'
        b"3\t\xc3\xa7\xc3\xa3o \xf0\x9f\x98\x80\t\\\\N\tnul\\0x\tNULL\n"
    )
    text = to_csv(chunk).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["1", "plain", NULL_MARKER, "NULL", ""],
        ["2", "tab\there", "line\nbreak", "back\\slash \\t", 'say "hi"\r'],
        ["3", "ção 😀", "\\N", "nul\0x", NULL_MARKER],
    ]
    lines = text.split("\n")
    assert lines[0] == f'"1","plain",{NULL_MARKER},"NULL",""'  # NULL bare, every value quoted


def test_copy_sql_with_an_iam_role_names_every_option() -> None:
    settings = S3Settings(bucket=BUCKET, iam_role="arn:aws:iam::123456789012:role/etl", region="sa-east-1")
    statement = copy_sql(
        sql.Identifier("t1", "products__swap"), ("id", "name"), f"s3://{BUCKET}/p/manifest.json", settings
    ).as_string()
    assert statement == (
        f'COPY "t1"."products__swap" ("id", "name") FROM \'s3://{BUCKET}/p/manifest.json\' '
        "IAM_ROLE 'arn:aws:iam::123456789012:role/etl' FORMAT AS CSV GZIP MANIFEST "
        f"NULL AS '{NULL_MARKER}' TIMEFORMAT 'auto' DATEFORMAT 'auto' REGION 'sa-east-1' "
        "COMPUPDATE OFF STATUPDATE OFF"
    )


def test_copy_sql_without_a_role_uses_the_process_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = S3Settings(bucket=BUCKET)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(ValueError, match="BRIDGE_ETL_IAM_ROLE"):
        copy_sql(sql.Identifier("x"), ("a",), "s3://b/m", settings)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-example")
    statement = copy_sql(sql.Identifier("x"), ("a",), "s3://b/m", settings).as_string()
    assert (
        "ACCESS_KEY_ID 'AKIAEXAMPLE' SECRET_ACCESS_KEY 'secret-example' SESSION_TOKEN 'token-example'"
        in statement
    )
    assert "secret-example" not in repr(settings)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_ETL_S3_BUCKET", raising=False)
    with pytest.raises(ValueError, match="BRIDGE_ETL_S3_BUCKET"):
        S3Settings.from_env()
    monkeypatch.setenv("BRIDGE_ETL_S3_BUCKET", BUCKET)
    monkeypatch.setenv("BRIDGE_ETL_S3_PREFIX", "/etl/stage/")
    monkeypatch.setenv("BRIDGE_ETL_S3_PART_MB", "0.5")
    settings = S3Settings.from_env()
    assert (settings.bucket, settings.prefix, settings.part_bytes) == (BUCKET, "etl/stage", 1 << 19)


class RecordingCursor:
    """Stands in for a Redshift cursor: records each statement and, at COPY time, what S3 holds."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.statements: list[str] = []
        self.staged: dict[str, bytes] = {}

    def execute(self, statement: sql.Composable) -> None:
        text = statement.as_string()
        self.statements.append(text)
        listing = self.client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        for obj in listing:
            self.staged[obj["Key"]] = self.client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()


def test_s3_stager_uploads_parts_and_a_manifest_copies_them_and_cleans_up(s3: Any) -> None:
    settings = S3Settings(bucket=BUCKET, prefix="stage", iam_role="arn:aws:iam::1:role/r", part_bytes=2048)
    rows = [
        f"{i}\tname {i} ção\\t{i}\t{'NULL' if i % 7 == 0 else i * 1.5}\n".encode() for i in range(1, 2001)
    ]
    chunks = [b"".join(rows[i : i + 300]) for i in range(0, len(rows), 300)]
    cursor = RecordingCursor(s3)
    count = S3Stager(settings, client=s3).stage(
        cursor, sql.Identifier("t1", "_stage_orders"), ("id", "name", "amount"), chunks, "t1/orders"
    )
    assert count == 2000
    [statement] = cursor.statements
    manifest_key = next(k for k in cursor.staged if k.endswith("manifest.json"))
    assert manifest_key.startswith("stage/t1/orders/")
    assert f"FROM 's3://{BUCKET}/{manifest_key}'" in statement and "MANIFEST" in statement
    entries = json.loads(cursor.staged[manifest_key])["entries"]
    assert len(entries) > 1 and all(e["mandatory"] for e in entries)
    loaded = b"".join(gzip.decompress(cursor.staged[e["url"].split(f"{BUCKET}/", 1)[1]]) for e in entries)
    parsed = list(csv.reader(io.StringIO(loaded.decode(), newline="")))
    assert len(parsed) == 2000
    assert parsed[0] == ["1", "name 1 ção\t1", "1.5"] and parsed[6][2] == NULL_MARKER
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # removed after the COPY


def test_s3_files_are_removed_when_the_copy_fails(s3: Any) -> None:
    class Failing(RecordingCursor):
        def execute(self, statement: sql.Composable) -> None:
            raise RuntimeError("COPY failed: stl_load_errors")

    settings = S3Settings(bucket=BUCKET, iam_role="arn:aws:iam::1:role/r")
    with pytest.raises(RuntimeError, match="stl_load_errors"):
        S3Stager(settings, client=s3).stage(Failing(s3), sql.Identifier("x"), ("a", "b"), [b"1\t2\n"], "t/x")
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_an_empty_table_still_gets_a_part_and_a_manifest(s3: Any) -> None:
    parts = S3Parts(S3Settings(bucket=BUCKET), "t/empty", client=s3)
    url = parts.finish()
    assert url.endswith("/manifest.json") and len(parts.keys) == 2
    parts.delete()
