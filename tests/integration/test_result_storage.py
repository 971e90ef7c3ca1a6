"""A shipped port switched to S3 result storage on the test stack, S3 being a moto server of this module's.

The switch is Prefect's own setting, in one deployment's environment: a second copy of hello_bridge's
flow (``hello-bridge/hello_bridge_s3``) whose job variables set ``PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK``
to an ``s3-bucket`` block (prefect-aws) on that server. Every other deployment of the shared stack keeps
its local results. A bridge.toml of this module's maps ``hello_bridge`` to that copy."""

from __future__ import annotations

import json
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge import config, shadow
from bridge.backends.prefect import PrefectBackend
from bridge.compare import model
from bridge.operations import Backends
from tests.helpers import REPO, VENV_PY, moto_server, wait_for_dags

BUCKET = f"bridge-results-{secrets.token_hex(3)}"
BLOCK = "bridge-test-s3-results"
S3_DEPLOYMENT = "hello-bridge/hello_bridge_s3"
BRIDGE = str(REPO / ".venv" / "bin" / "bridge")
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "moto-secret", "region_name": "us-east-1"}

# Run in the repo's venv against the stack's Prefect: save the block, deploy the copy with its env.
DEPLOY_S3_COPY = """
import json, sys
from dataclasses import replace
from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket
from flows.deploy import deploy_all
from flows.hello_bridge import DEPLOYMENTS

a = json.loads(sys.argv[1])
creds = AwsCredentials(**a["keys"], aws_client_parameters=AwsClientParameters(endpoint_url=a["endpoint"]))
S3Bucket(bucket_name=a["bucket"], bucket_folder="results", credentials=creds).save(a["block"], overwrite=True)
env = {"PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": "s3-bucket/" + a["block"]}
print(json.dumps(deploy_all([replace(DEPLOYMENTS[0], name=a["name"], job_variables={"env": env})])))
"""


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, **KEYS)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto server of this module's own (S3), on a free port, with the results bucket; stopped after."""
    with moto_server() as url:
        s3_client(url).create_bucket(Bucket=BUCKET)
        yield url


@pytest.fixture(scope="module")
def s3_env(
    stack: Any, deployed: dict[str, str], s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The S3 copy deployed, and the environment of a bridge whose catalog maps hello_bridge to it."""
    args = {
        "keys": KEYS,
        "endpoint": s3_endpoint,
        "bucket": BUCKET,
        "block": BLOCK,
        "name": "hello_bridge_s3",
    }
    proc = subprocess.run(
        [str(VENV_PY), "-c", DEPLOY_S3_COPY, json.dumps(args)],
        cwd=REPO,
        env=deployed,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert S3_DEPLOYMENT in proc.stdout
    home = tmp_path_factory.mktemp("s3-results")
    catalog = home / "bridge.toml"
    shipped = (REPO / "bridge.toml").read_text()
    assert 'deployment = "hello-bridge/hello_bridge"\n' in shipped
    catalog.write_text(shipped.replace('"hello-bridge/hello_bridge"\n', f'"{S3_DEPLOYMENT}"\n', 1))
    env = {**deployed, "BRIDGE_CONFIG": str(catalog), "BRIDGE_HOME": str(home)}
    wait_for_dags(backends_of(env).get("airflow"), ["hello_bridge"])
    return env


def backends_of(env: dict[str, str]) -> Backends:
    return Backends(config.load(env=env), env=env)


def objects(endpoint: str) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=BUCKET)
    return [o["Key"] for o in listed.get("Contents", [])]


def run_on_prefect(prefect: PrefectBackend, deployment: str, name: str) -> tuple[Any, list[Any]]:
    """Trigger ``deployment``, wait, and return its observation and its task runs' result records."""
    ref = prefect.trigger(deployment, {"name": name}, f"s3-{uuid.uuid4().hex[:8]}")
    prefect.wait(ref, 180)
    obs = prefect.observe(ref)
    task_runs = prefect.client.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [ref.run_id]}}})
    return obs, [tr["state"]["data"] for tr in task_runs]


def test_the_s3_port_persists_in_s3_and_the_bridge_reads_it_there(
    s3_env: dict[str, str], s3_endpoint: str
) -> None:
    prefect = backends_of(s3_env).get("prefect")
    assert isinstance(prefect, PrefectBackend)
    obs, records = run_on_prefect(prefect, S3_DEPLOYMENT, "s3")
    assert obs.error is None, obs.error
    assert obs.tasks["greet"].value == {"greeting": "hello s3", "target": "public", "length": 2}
    assert obs.result == obs.tasks["greet"].value
    assert records and all(r["storage_block_id"] for r in records)  # in the block, not on a disk
    stored = objects(s3_endpoint)
    assert records[0]["storage_key"] and f"results/{records[0]['storage_key']}" in stored
    # A bridge that never saw the block reads it through a fresh backend (block read from the API).
    fresh = PrefectBackend(prefect.api_url)
    assert fresh.read_result({"data": records[0]}) == obs.tasks["greet"].value
    # The shipped deployment on the same stack still persists on the local disk.
    local, local_records = run_on_prefect(prefect, "hello-bridge/hello_bridge", "disk")
    assert local.tasks["greet"].value["greeting"] == "hello disk"
    assert local_records and not any(r["storage_block_id"] for r in local_records)
    assert Path(local_records[0]["storage_key"]).is_file()


def test_a_shadow_whose_prefect_side_stores_in_s3_matches(s3_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [BRIDGE, "trigger", "hello_bridge", "--shadow", "--json", "--conf", '{"name": "s3 shadow"}'],
        cwd=REPO,
        env=s3_env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["deployment"] == S3_DEPLOYMENT
    assert out["verdict"] == "match", out
    assert out["shadow"]["state"] == "success" and out["shadow"]["error"] is None


def test_results_gone_from_s3_fail_the_shadow_naming_the_storage(
    s3_env: dict[str, str], s3_endpoint: str
) -> None:
    """The bucket emptied once the Prefect run is final, before the bridge reads it: shadow_failed, the
    reason naming the S3 storage, not a mismatch of values nobody read."""
    backends = backends_of(s3_env)
    prefect = backends.get("prefect")
    wait = prefect.wait

    def wait_then_empty(ref: Any, timeout: float, progress: Any = None) -> Any:
        status = wait(ref, timeout, progress)
        client = s3_client(s3_endpoint)
        for key in objects(s3_endpoint):
            client.delete_object(Bucket=BUCKET, Key=key)
        return status

    prefect.wait = wait_then_empty  # type: ignore[method-assign]
    result = shadow.run(backends, "hello_bridge", {"name": "emptied"}, timeout=300)
    assert result.verdict == model.SHADOW_FAILED, result.verdict_line
    assert result.primary.ok and result.differences == ()
    assert result.shadow.state == "unreadable"
    error = result.shadow.error or ""
    assert error.startswith(
        f"result unreadable from s3://{BUCKET}/results: cannot get s3://{BUCKET}/results/"
    )
    assert "NoSuchKey" in error and KEYS["aws_secret_access_key"] not in error
