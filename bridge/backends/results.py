"""A Prefect result, read from the storage its record names.

A persisted result's state data is its record's metadata: ``storage_key`` and ``storage_block_id``. No
block: the key is a file on this machine (a worker's default local storage). A block: the storage is that
block document (``GET /block_documents/{id}``, secrets included), read here as

- ``local-file-system``: the file ``basepath/key``;
- ``s3-bucket`` (prefect-aws) or ``remote-file-system`` with an ``s3://`` basepath: the object, through
  boto3 (imported only when a result is in S3), with the block's endpoint, region and credentials (else
  boto3's own: environment, profile, role);
- any other kind: not read; the value says which storage it is in and that the bridge does not read it.

A value that cannot be read is ``{"unreadable_result": "result unreadable from <storage>: <why>"}``: the
observation says why, and a shadow whose side has one fails, naming it (``bridge.shadow``). No secret of a
block ever reaches a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError

UNREADABLE = "unreadable_result"
S3_KINDS = ("s3-bucket", "remote-file-system")
#: Block document id -> the block document (with its secrets), as the Prefect API returns it.
BlockReader = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class Location:
    """Where one result is: ``kind`` ``local`` (``path``), ``s3`` (``bucket``, ``key``) or another
    storage nobody here reads; ``storage`` names the storage in messages (never a secret)."""

    kind: str
    storage: str
    path: str = ""
    bucket: str = ""
    key: str = ""
    client: Mapping[str, Any] = field(default_factory=dict, repr=False)  # boto3 client arguments

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.kind == "s3" else self.path


def unreadable(storage: str, why: str) -> dict[str, str]:
    """The value that stands for one result the bridge could not read, and says why."""
    return {UNREADABLE: f"result unreadable from {storage}: {why}"}


def is_unreadable(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {UNREADABLE} and isinstance(value[UNREADABLE], str)


def unreadable_reasons(values: Any) -> list[str]:
    """The reasons of every unreadable value in ``values`` (a value, or lists/mappings of them)."""
    return [str(v[UNREADABLE]) for v in _walk(values)]


def _walk(value: Any) -> Iterator[Mapping[str, Any]]:
    if is_unreadable(value):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)


def read_result(state: Mapping[str, Any] | None, blocks: BlockReader | None = None) -> Any:
    """The value a flow or task run persisted; the state's data as is when it is not a result record
    (None, an inline value); an unreadable marker (see the module) when it cannot be read."""
    data = (state or {}).get("data")
    if not isinstance(data, Mapping) or "storage_key" not in data:
        return data
    try:
        where = locate(data, blocks)
    except BridgeError as exc:
        block = data.get("storage_block_id")
        return unreadable(f"the storage block {block}", str(exc))
    if where.kind not in ("local", "s3"):
        return unreadable(where.storage, "the bridge reads results from the local file system and S3 only")
    try:
        raw = fetch(where)
    except BridgeError as exc:
        return unreadable(where.storage, str(exc))
    return decode(raw, where.storage)


def locate(data: Mapping[str, Any], blocks: BlockReader | None) -> Location:
    """Where the record ``data`` (a state's result metadata) says its value is. Raises BridgeError when
    its storage block cannot be read."""
    key = str(data["storage_key"])
    block_id = data.get("storage_block_id")
    if not block_id:
        return Location("local", "the local file system", path=key)
    if blocks is None:
        raise BridgeError("no Prefect API to read the block from")
    return block_location(blocks(str(block_id)), key)


def block_location(doc: Mapping[str, Any], key: str) -> Location:
    """The location of ``key`` in the storage the block document ``doc`` describes."""
    kind = str((doc.get("block_type") or {}).get("slug") or doc.get("block_type_name") or "unknown")
    name = f"{kind} block {doc.get('name') or doc.get('id')!r}"
    data: Mapping[str, Any] = doc.get("data") or {}
    if kind == "local-file-system":
        base = str(data.get("basepath") or ".").removeprefix("file://")
        return Location("local", f"{name} ({base})", path=str(Path(base).expanduser() / key))
    if kind == "s3-bucket":
        bucket, folder = str(data.get("bucket_name") or ""), str(data.get("bucket_folder") or "")
        full = f"{folder.strip('/')}/{key}" if folder.strip("/") else key
        where = f"s3://{bucket}/{folder.strip('/')}".rstrip("/")
        return Location("s3", where, bucket=bucket, key=full, client=_aws_client(data.get("credentials")))
    if kind == "remote-file-system" and str(data.get("basepath") or "").startswith(("s3://", "s3a://")):
        base = str(data["basepath"]).split("://", 1)[1].rstrip("/")
        bucket, _, prefix = base.partition("/")
        full = f"{prefix}/{key}" if prefix else key
        where = f"s3://{base}"
        return Location("s3", where, bucket=bucket, key=full, client=_fsspec_client(data.get("settings")))
    if kind == "remote-file-system":
        scheme = str(data.get("basepath") or "").partition("://")[0] or "?"
        return Location(kind, f"{name} ({scheme}://)")
    return Location(kind, name)


def _aws_client(creds: Any) -> dict[str, Any]:
    """boto3 client arguments from prefect-aws credentials (AwsCredentials or MinIOCredentials)."""
    creds = creds if isinstance(creds, Mapping) else {}
    params = creds.get("aws_client_parameters") or {}
    args = {
        "aws_access_key_id": creds.get("aws_access_key_id") or creds.get("minio_root_user"),
        "aws_secret_access_key": creds.get("aws_secret_access_key") or creds.get("minio_root_password"),
        "aws_session_token": creds.get("aws_session_token"),
        "region_name": creds.get("region_name"),
        "endpoint_url": params.get("endpoint_url"),
    }
    return {k: v for k, v in args.items() if v}


def _fsspec_client(settings: Any) -> dict[str, Any]:
    """boto3 client arguments from an s3fs ``settings`` mapping (key, secret, token, client_kwargs)."""
    settings = settings if isinstance(settings, Mapping) else {}
    kwargs = settings.get("client_kwargs") or {}
    args = {
        "aws_access_key_id": settings.get("key"),
        "aws_secret_access_key": settings.get("secret"),
        "aws_session_token": settings.get("token"),
        "region_name": kwargs.get("region_name"),
        "endpoint_url": settings.get("endpoint_url") or kwargs.get("endpoint_url"),
    }
    return {k: v for k, v in args.items() if v}


def fetch(where: Location) -> bytes:
    """The bytes at ``where``; BridgeError with one line of why when they cannot be had."""
    if where.kind == "local":
        try:
            return Path(where.path).read_bytes()
        except OSError as exc:
            raise BridgeError(f"no file at {where.path} ({exc.strerror or type(exc).__name__})") from exc
    return _s3_get(where)


def _s3_get(where: Location) -> bytes:
    import boto3  # lazily: boto3 costs a quarter second, and only S3 results need it
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
    try:
        client = boto3.client("s3", config=config, **where.client)
        body: bytes = client.get_object(Bucket=where.bucket, Key=where.key)["Body"].read()
        return body
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "error"), err.get("Message", "")
        raise BridgeError(f"cannot get {where.where}: {code}" + (f" ({message})" if message else "")) from exc
    except (BotoCoreError, ValueError) as exc:  # no endpoint, no credentials, a malformed endpoint URL
        raise BridgeError(f"cannot get {where.where}: {type(exc).__name__}: {exc}") from exc


def decode(raw: bytes, storage: str) -> Any:
    """A result file's value: a result record (metadata plus the value as the serializer wrote it) or,
    from older writers, the bare JSON value."""
    try:
        value = json.loads(raw)
    except ValueError:
        return unreadable(storage, "not JSON; persist results with result_serializer='json'")
    if isinstance(value, dict) and set(value) == {"metadata", "result"}:
        serializer = ((value["metadata"] or {}).get("serializer") or {}).get("type")
        if serializer != "json":
            return unreadable(storage, f"serialized with {serializer}; persist results as JSON")
        result = value["result"]
        return json.loads(result) if isinstance(result, str) else result
    return value
