from __future__ import annotations

from pathlib import Path

import pytest

from bridge import config
from bridge.config import ParamMapping
from bridge.errors import ConfigError

GOOD = """
[backends.airflow]
url = "http://af:8080"
username = "ops"

[backends.prefect]
url = "http://pf:4200/api"

[workflows.update_prices_daily]
deployment = "update-prices-daily/update_prices_daily"
stage = "shadow"
params = { rename = { day = "business_date" }, defaults = { target = "public" }, drop = ["legacy_flag"] }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


def test_reads_backends_and_workflows(tmp_path: Path) -> None:
    cat = config.load(_write(tmp_path, GOOD), env={})
    assert cat.airflow.url == "http://af:8080" and cat.airflow.username == "ops"
    assert cat.prefect.url == "http://pf:4200/api"
    entry = cat.entry("update_prices_daily")
    assert entry.stage == "shadow" and entry.deployment == "update-prices-daily/update_prices_daily"
    assert cat.dag_for_deployment("update-prices-daily/update_prices_daily") == "update_prices_daily"
    assert cat.entry("not_listed").stage == "airflow"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "BRIDGE_AIRFLOW_URL": "http://other:1",
        "BRIDGE_PREFECT_URL": "http://p:2/api",
        "BRIDGE_AIRFLOW_USERNAME": "me",
    }
    cat = config.load(_write(tmp_path, GOOD), env=env)
    assert (cat.airflow.url, cat.airflow.username, cat.prefect.url) == (
        "http://other:1",
        "me",
        "http://p:2/api",
    )


def test_param_mapping_renames_defaults_and_drops() -> None:
    mapping = ParamMapping({"day": "business_date"}, {"target": "public"}, ("legacy_flag",))
    assert mapping.apply({"day": "2026-01-02", "legacy_flag": True, "x": 1}) == {
        "business_date": "2026-01-02",
        "target": "public",
        "x": 1,
    }
    assert mapping.apply({"target": "shadow"})["target"] == "shadow"


def test_unknown_key_names_key_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('username = "ops"', 'username = "ops"\nusernmae = "typo"'))
    with pytest.raises(ConfigError) as err:
        config.load(path, env={})
    assert f"{path}:5" in str(err.value) and "backends.airflow.usernmae" in str(err.value)


def test_unknown_workflow_key_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('stage = "shadow"', 'stage = "shadow"\nstgae = "x"'))
    with pytest.raises(ConfigError, match=r"workflows\.update_prices_daily\.stgae"):
        config.load(path, env={})


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('username = "ops"', 'username = "ops"\npassword = "hunter2"'))
    with pytest.raises(ConfigError) as err:
        config.load(path, env={})
    assert "BRIDGE_AIRFLOW_PASSWORD" in str(err.value) and "hunter2" not in str(err.value)


def test_bad_stage_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="use one of airflow, shadow, prefect"):
        config.load(_write(tmp_path, GOOD.replace('"shadow"', '"sideways"')), env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(_write(tmp_path, "[backends\n"), env={})


def test_shipped_catalog_loads() -> None:
    cat = config.load(config.REPO_ROOT / "bridge.toml", env={})
    assert all(e.deployment for e in cat.workflows.values())
