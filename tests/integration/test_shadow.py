"""Shadow runs of the shipped workflows on the real stack, a deliberately divergent port, and calibration."""

from __future__ import annotations

import dataclasses

import pytest

from bridge import config, shadow
from bridge.compare import model
from bridge.operations import Backends
from devkit.etl_seed import seed_etl
from tests.helpers import run_prefect_script, wait_for_dags

DAY = "2024-12-31"


@pytest.fixture(scope="module")
def backends(stack, deployed, data_urls) -> Backends:  # type: ignore[no-untyped-def]
    seed_etl(data_urls["BRIDGE_SOURCE_URL"], 300, 11)  # every scenario's source tables
    env = {
        "BRIDGE_AIRFLOW_URL": stack.airflow_url,
        "BRIDGE_PREFECT_URL": stack.prefect_url,
        "BRIDGE_AIRFLOW_PASSWORD": stack.airflow_password,
        **dict(stack.extra_env),
    }
    b = Backends(config.load(env=env), env=env)
    wait_for_dags(
        b.get("airflow"),
        (
            "hello_bridge",
            "process_products",
            "update_prices_daily",
            "etl_products",
            "etl_orders",
            "full_migration_weekly",
            "rabbitmq_worker",
            "sqs_worker",
        ),
    )
    return b


def _target(prefix: str) -> str:
    import uuid

    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def _with_shadow_target(
    backends: Backends, dag_id: str, target: str, deployment: str | None = None
) -> Backends:
    entry = backends.catalog.entry(dag_id)
    changed = dataclasses.replace(
        entry,
        shadow=dataclasses.replace(entry.shadow, target=target),
        deployment=deployment or entry.deployment,
    )
    catalog = dataclasses.replace(backends.catalog, workflows={**backends.catalog.workflows, dag_id: changed})
    return Backends(catalog, env=backends.env)


@pytest.mark.parametrize(
    "dag_id,conf",
    [
        ("hello_bridge", {"name": "sombra"}),
        ("update_prices_daily", {"business_date": DAY}),
        ("process_products", {"business_date": DAY}),
        ("etl_products", {"business_date": DAY}),
        ("etl_orders", {"business_date": DAY}),
        ("full_migration_weekly", {"business_date": DAY}),
    ],
)
def test_shipped_workflows_match(backends: Backends, dag_id: str, conf: dict) -> None:
    primary = _target("sh_af")
    b = _with_shadow_target(backends, dag_id, _target("sh_pf"))
    result = shadow.run(b, dag_id, {**conf, "target": primary}, timeout=300)
    assert result.primary.ok and result.shadow.ok, (result.primary.error, result.shadow.error)
    assert result.verdict == model.MATCH, (result.differences, [t.to_dict() for t in result.tables])
    declared = {t.table for t in b.catalog.entry(dag_id).shadow.tables}
    compared = {t.table for t in result.tables}
    assert declared <= compared  # and every other table the run wrote (etl_state, etl_watermarks...)
    for table in result.tables:
        assert table.equal and table.airflow_rows == table.prefect_rows > 0, table.to_dict()


def test_a_divergent_port_is_a_mismatch_naming_paths_and_rows(backends: Backends, stack) -> None:  # type: ignore[no-untyped-def]
    script = (
        "from prefect import Flow\n"
        "f = Flow.from_source(source='.', entrypoint='tests/fixtures/divergent_prices.py:update_prices_daily')\n"
        "f.deploy(name='update_prices_daily_divergent', work_pool_name='scheduler', build=False, push=False,"
        " print_next_steps=False)\n"
    )
    run_prefect_script(stack.prefect_url, script)
    b = _with_shadow_target(
        backends,
        "update_prices_daily",
        _target("sh_div"),
        "update-prices-daily/update_prices_daily_divergent",
    )
    result = shadow.run(
        b, "update_prices_daily", {"business_date": DAY, "target": _target("sh_af")}, timeout=300
    )
    assert result.verdict == model.MISMATCH
    paths = {d.path for d in result.real_differences}
    assert "result.checksum" in paths and "tasks.update_prices.value.checksum" in paths
    (prices,) = result.tables
    assert prices.changed_count > 0 and prices.only_airflow_count == prices.only_prefect_count == 0
    assert all(c.columns == ("price",) for c in prices.changed)


def test_calibration_turns_random_values_into_noise(backends: Backends) -> None:
    from bridge import calibration

    conf = {"name": "ruido", "with_noise": True}
    measured = calibration.calibrate(backends, "hello_bridge", conf, runs=2, timeout=120)
    assert [(n.path, n.varies) for n in measured.noise] == [
        ("result.lucky", True),
        ("tasks.greet.value.lucky", True),
    ]
    assert measured.fingerprints[0] == measured.fingerprints[1]
    result = shadow.run(backends, "hello_bridge", conf, timeout=120, noise=measured.noise)
    assert result.verdict == model.MATCH
    assert {(d.path, d.kind) for d in result.differences} == {
        ("result.lucky", model.NOISE),
        ("tasks.greet.value.lucky", model.NOISE),
    }


def test_calibrating_a_queue_worker_on_different_inputs_is_refused(backends: Backends) -> None:
    """Each control drains its own queue; controls that got different messages measure nothing."""
    from bridge import calibration
    from bridge.errors import CalibrationRefusedError
    from devkit.producer import publish_orders
    from pipelines.adapters import rabbitmq_admin

    primary, stream = _target("q_cal"), _target("s")
    first, second = calibration.control_targets(primary, 2)
    conf = {"target": primary, "stream": stream, "max_attempts": 2, "retry_base_seconds": 0.1}
    publish_orders("rabbitmq", 40, 5, targets=[first], stream=stream)
    publish_orders("rabbitmq", 40, 6, targets=[second], stream=stream, start=1000)  # other orders
    try:
        with pytest.raises(CalibrationRefusedError, match=r"different inputs.*order_outcomes"):
            calibration.calibrate(backends, "rabbitmq_worker", conf, runs=2, timeout=300)
        # controls whose queues are empty did no work: refused too
        with pytest.raises(CalibrationRefusedError, match="did no work"):
            calibration.calibrate(backends, "rabbitmq_worker", conf, runs=2, timeout=300)
    finally:
        rabbitmq_admin.delete_stream(stream, [first, second])


@pytest.mark.parametrize("dag_id,broker", [("rabbitmq_worker", "rabbitmq"), ("sqs_worker", "sqs")])
def test_queue_workers_match_message_by_message(backends: Backends, stack, dag_id: str, broker: str) -> None:  # type: ignore[no-untyped-def]
    """Both sides drain their own copy of the same order events; outcomes are compared by message id."""
    from devkit.producer import publish_orders
    from pipelines.adapters import rabbitmq_admin, sqs_admin

    primary, shadow_target, stream = _target("q_af"), _target("q_pf"), _target("s")
    b = _with_shadow_target(backends, dag_id, shadow_target)
    url = stack.sqs_url if broker == "sqs" else None
    publish_orders(
        broker, 150, 5, targets=[primary, shadow_target], stream=stream, poison=1, malformed=1, url=url
    )
    try:
        result = shadow.run(
            b,
            dag_id,
            {
                "target": primary,
                "stream": stream,
                "max_attempts": 2,
                "retry_base_seconds": 0.1,
                "batch_size": 50,
            },
            timeout=300,
        )
    finally:
        if broker == "sqs":
            sqs_admin.delete_stream(stream, [primary, shadow_target], endpoint=url)
        else:
            rabbitmq_admin.delete_stream(stream, [primary, shadow_target])
    assert result.verdict == model.MATCH, (result.differences, [t.to_dict() for t in result.tables])
    (outcomes,) = result.tables
    assert outcomes.key == ("message_id",) and outcomes.airflow_rows == outcomes.prefect_rows == 150
    ignored = {d.path for d in result.set_aside if d.kind == model.IGNORED}
    assert "result.seconds" in ignored  # timing is listed as ignored, with its reason, never dropped
