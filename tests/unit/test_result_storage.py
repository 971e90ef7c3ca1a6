"""Reading a Prefect result from the storage its record names: local files, S3 (moto in-process), any other
storage named in one line; an unreadable value fails the shadow, naming the storage, never a mismatch."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from bridge import shadow
from bridge.backends import results
from bridge.backends.results import UNREADABLE, block_location, read_result, unreadable_reasons
from bridge.compare import model
from bridge.errors import NotFoundError
from tests.unit.test_shadow_logic import Fake, _backends

SECRET = "s3cr3t-never-printed"
VALUE = {"greeting": "hello, unit", "target": "public"}


def record(value: Any, serializer: str = "json") -> bytes:
    """A result file as Prefect 3 writes it: the record's metadata and the serialized value."""
    meta = {"storage_key": "k", "serializer": {"type": serializer}, "storage_block_id": None}
    return json.dumps({"metadata": meta, "result": json.dumps(value)}).encode()


def state(key: str, block: str | None = None) -> dict[str, Any]:
    return {"data": {"storage_key": key, "storage_block_id": block, "serializer": {"type": "json"}}}


def blocks(*docs: Mapping[str, Any]) -> Any:
    by_id = {doc["id"]: doc for doc in docs}

    def read(block_id: str) -> Mapping[str, Any]:
        if block_id not in by_id:
            raise NotFoundError(f"prefect answered 404 to GET /block_documents/{block_id}: Block not found")
        return by_id[block_id]

    return read


def doc(block_id: str, slug: str, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": block_id, "name": name, "block_type": {"slug": slug}, "data": dict(data)}


S3_BUCKET = doc(
    "b-s3",
    "s3-bucket",
    "results",
    {
        "bucket_name": "bridge-results",
        "bucket_folder": "runs/",
        "credentials": {
            "aws_access_key_id": "AKIDUNIT",
            "aws_secret_access_key": SECRET,
            "region_name": "us-east-1",
            "aws_client_parameters": {"endpoint_url": None},
        },
    },
)
REMOTE_S3 = doc(
    "b-rfs",
    "remote-file-system",
    "s3fs",
    {"basepath": "s3://bridge-results/fs", "settings": {"key": "AKIDUNIT", "secret": SECRET}},
)


@pytest.fixture
def s3() -> Iterator[Any]:
    """moto's S3 in this process, with the bucket the blocks above name."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="bridge-results")
        yield client


def test_a_local_result_is_read_from_its_file(tmp_path: Path) -> None:
    (tmp_path / "abc").write_bytes(record(VALUE))
    assert read_result(state(str(tmp_path / "abc"))) == VALUE
    assert read_result({"data": [1, 2]}) == [1, 2] and read_result(None) is None  # not a record: as is
    missing = read_result(state(str(tmp_path / "gone")))
    assert missing == {
        UNREADABLE: f"result unreadable from the local file system: no file at {tmp_path}/gone "
        "(No such file or directory)"
    }


def test_a_local_file_system_block_reads_under_its_basepath(tmp_path: Path) -> None:
    (tmp_path / "abc").write_bytes(record(VALUE))
    local = doc("b-local", "local-file-system", "disk", {"basepath": str(tmp_path)})
    assert read_result(state("abc", "b-local"), blocks(local)) == VALUE


def test_s3_results_are_read_through_boto3_from_either_block_kind(s3: Any) -> None:
    s3.put_object(Bucket="bridge-results", Key="runs/abc", Body=record(VALUE))
    s3.put_object(Bucket="bridge-results", Key="fs/def", Body=record([1, 2]))
    read = blocks(S3_BUCKET, REMOTE_S3)
    assert read_result(state("abc", "b-s3"), read) == VALUE
    assert read_result(state("def", "b-rfs"), read) == [1, 2]
    where = block_location(S3_BUCKET, "abc")
    assert (where.kind, where.storage, where.bucket, where.key) == (
        "s3",
        "s3://bridge-results/runs",
        "bridge-results",
        "runs/abc",
    )
    assert where.client["aws_access_key_id"] == "AKIDUNIT" and "endpoint_url" not in where.client
    assert SECRET not in repr(where)


def test_an_s3_result_that_is_gone_says_where_it_was_looked_for(s3: Any) -> None:
    value = read_result(state("nope", "b-s3"), blocks(S3_BUCKET))
    reason = unreadable_reasons(value)[0]
    assert reason.startswith("result unreadable from s3://bridge-results/runs: cannot get ")
    assert "s3://bridge-results/runs/nope" in reason and "NoSuchKey" in reason and SECRET not in reason


@pytest.mark.parametrize(
    "block,named",
    [
        (doc("b-gcs", "gcs-bucket", "lake", {"bucket": "x"}), "gcs-bucket block 'lake'"),
        (doc("b-az", "azure-blob-storage-container", "az", {}), "azure-blob-storage-container block 'az'"),
        (
            doc("b-gs", "remote-file-system", "gcsfs", {"basepath": "gs://x/y"}),
            "remote-file-system block 'gcsfs' (gs://)",
        ),
    ],
)
def test_any_other_storage_is_one_line_naming_it(block: Mapping[str, Any], named: str) -> None:
    value = read_result(state("abc", block["id"]), blocks(block))
    assert value == {
        UNREADABLE: f"result unreadable from {named}: the bridge reads results from the local file system "
        "and S3 only"
    }


def test_a_block_that_cannot_be_read_or_a_value_not_json_says_so(tmp_path: Path) -> None:
    [gone] = unreadable_reasons(read_result(state("abc", "b-missing"), blocks()))
    assert gone.startswith("result unreadable from the storage block b-missing: prefect answered 404")
    (tmp_path / "p").write_bytes(record(VALUE, serializer="pickle"))
    (tmp_path / "t").write_bytes(b"\x80\x04not json")
    assert unreadable_reasons(read_result(state(str(tmp_path / "p")))) == [
        "result unreadable from the local file system: serialized with pickle; persist results as JSON"
    ]
    assert "not JSON" in unreadable_reasons(read_result(state(str(tmp_path / "t"))))[0]


def test_the_prefect_backend_reads_a_block_once_with_its_secrets(s3: Any) -> None:
    from bridge.backends.prefect import PrefectBackend

    s3.put_object(Bucket="bridge-results", Key="runs/abc", Body=record(VALUE))
    backend = PrefectBackend("http://prefect.invalid/api")
    asked: list[tuple[str, Any]] = []

    def get(path: str, **kwargs: Any) -> Mapping[str, Any]:
        asked.append((path, kwargs.get("params")))
        return S3_BUCKET

    backend.client.get = get  # type: ignore[method-assign]
    assert backend.read_result(state("abc", "b-s3")) == VALUE
    assert backend.read_result(state("abc", "b-s3")) == VALUE
    assert asked == [("/block_documents/b-s3", {"include_secrets": "true"})]


def test_an_unreadable_shadow_value_fails_the_shadow_naming_the_storage_not_a_mismatch() -> None:
    why = (
        "result unreadable from s3://bridge-results/runs: cannot get s3://bridge-results/runs/abc: NoSuchKey"
    )
    af = Fake("airflow", {"rows": 3})
    pf = Fake("prefect", {UNREADABLE: why})
    result = shadow.run(_backends(af, pf), "wf", {}, timeout=5)
    assert result.verdict == model.SHADOW_FAILED and result.differences == ()
    assert result.shadow.state == "unreadable" and result.shadow.error == why
    assert result.primary.ok


def test_the_module_imports_no_boto3_until_an_s3_result_is_read() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from bridge.backends import prefect, results; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert results.S3_KINDS == ("s3-bucket", "remote-file-system")
