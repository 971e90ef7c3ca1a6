"""The shared command logic, with fake backends (our own logic only; the real servers are in integration)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bridge import errors, operations
from bridge.backends.base import RunState, Workflow
from bridge.config import AirflowSettings, Catalog, ParamMapping, PrefectSettings, WorkflowEntry
from bridge.errors import BackendUnavailableError, UnknownWorkflowError, UsageError

CATALOG = Catalog(
    None,
    AirflowSettings(),
    PrefectSettings(),
    {
        "prices": WorkflowEntry("prices", "update-prices/prices", "shadow"),
        "moved": WorkflowEntry(
            "moved", "moved-flow/moved", "prefect", params=ParamMapping({"day": "business_date"})
        ),
    },
)


@dataclass
class FakeBackend:
    name: str
    workflows: list[Workflow] = field(default_factory=list)
    down: bool = False

    def list_workflows(self) -> list[Workflow]:
        if self.down:
            raise BackendUnavailableError(f"{self.name} is unreachable", backend=self.name)
        return self.workflows


class FakeBackends(operations.Backends):
    def __init__(self, made: dict[str, Any]) -> None:
        super().__init__(CATALOG, env={})
        self._made = made


def test_parse_conf_errors_say_where() -> None:
    assert operations.parse_conf('{"a": 1}') == {"a": 1}
    with pytest.raises(UsageError, match="line 1 column 10"):
        operations.parse_conf('{"a": 1, }')
    with pytest.raises(UsageError, match="JSON object"):
        operations.parse_conf("[1, 2]")


def test_resolve_follows_the_stage_and_maps_params() -> None:
    assert operations.resolve(CATALOG, "prices", "auto", {"x": 1}).backend == "airflow"
    moved = operations.resolve(CATALOG, "moved", "auto", {"day": "2026-01-01"})
    assert (moved.backend, moved.workflow_id, moved.params) == (
        "prefect",
        "moved-flow/moved",
        {"business_date": "2026-01-01"},
    )
    assert operations.resolve(CATALOG, "prices", "prefect", {}).workflow_id == "update-prices/prices"
    with pytest.raises(UnknownWorkflowError):
        operations.resolve(CATALOG, "legacy_only", "prefect", {})
    with pytest.raises(UsageError):
        operations.resolve(CATALOG, "prices", "kafka", {})


def test_list_joins_both_sides_through_the_catalog() -> None:
    af = FakeBackend(
        "airflow",
        [
            Workflow(
                "prices", "airflow", schedule="0 6 * * *", timezone="UTC", last_run_state=RunState.SUCCESS
            ),
            Workflow("legacy_only", "airflow", paused=True),
        ],
    )
    pf = FakeBackend("prefect", [Workflow("update-prices/prices", "prefect", schedule="0 6 * * *")])
    rows, warnings = operations.list_workflows(FakeBackends({"airflow": af, "prefect": pf}))
    by_id = {r.id: r for r in rows}
    assert warnings == []
    assert by_id["prices"].known_by == ("airflow", "prefect")
    assert by_id["prices"].stage == "shadow" and by_id["prices"].last_state == "success"
    assert by_id["legacy_only"].paused is True and by_id["legacy_only"].known_by == ("airflow",)
    assert by_id["moved"].known_by == ()  # in the catalog only


def test_list_with_one_side_down_warns_and_with_both_down_fails() -> None:
    af = FakeBackend("airflow", [Workflow("prices", "airflow")])
    rows, warnings = operations.list_workflows(
        FakeBackends({"airflow": af, "prefect": FakeBackend("prefect", down=True)})
    )
    assert [r.id for r in rows if r.known_by] == ["prices"] and "prefect is unreachable" in warnings[0]
    with pytest.raises(BackendUnavailableError):
        operations.list_workflows(
            FakeBackends(
                {"airflow": FakeBackend("airflow", down=True), "prefect": FakeBackend("prefect", down=True)}
            )
        )


def test_dev_password_only_for_a_local_airflow() -> None:
    local = operations.Backends(CATALOG, env={})
    assert local._password("http://127.0.0.1:8080", "admin") is None  # none given: the default is tried
    made = local.get("airflow").client.auth  # type: ignore[attr-defined]
    assert made.default_password is True and made._password == operations.DEV_PASSWORD
    given = operations.Backends(CATALOG, env={"BRIDGE_AIRFLOW_PASSWORD": "s3cret"}).get("airflow")
    assert given.client.auth.default_password is False  # type: ignore[attr-defined]
    remote = operations.Backends(CATALOG, env={})
    with pytest.raises(UsageError, match="BRIDGE_AIRFLOW_PASSWORD"):
        remote._password("https://airflow.example.com", "admin")
    asked = operations.Backends(CATALOG, env={}, prompt=lambda text: "typed")
    assert asked._password("https://airflow.example.com", "admin") == "typed"


def test_airflow_pages_past_the_100_cap() -> None:
    """The API silently caps `limit` at 100: the backend pages with offset until total_entries."""
    from bridge.backends.airflow import AirflowBackend

    dags = [{"dag_id": f"d{i:03d}"} for i in range(230)]
    calls = []

    class Client:
        def get(self, path: str, params: dict) -> dict:
            calls.append(params["offset"])
            page = dags[params["offset"] : params["offset"] + min(params["limit"], 100)]
            return {"dags": page, "total_entries": len(dags)}

    backend = AirflowBackend.__new__(AirflowBackend)
    backend.client = Client()  # type: ignore[assignment]
    assert [d["dag_id"] for d in backend._pages("/dags", "dags")] == [d["dag_id"] for d in dags]
    assert calls == [0, 100, 200]


@pytest.mark.parametrize(
    "error,code",
    [
        (errors.RunFailedError("run airflow:x/y ended failed"), 1),
        (errors.MismatchError("shadow x: mismatch (2 differences)"), 4),
        (errors.ScheduleMismatchError("x: the schedules differ (offset)"), 1),
        (errors.BackendUnavailableError("airflow is unreachable"), 3),
        (errors.DatabaseUnavailableError("prefect database ...: cannot connect"), 3),
        (errors.StoreError("cannot open the history store"), 3),
        (errors.NotFoundError("no such run"), 2),
    ],
)
def test_exit_codes_come_from_the_raised_error_with_one_line(error: errors.BridgeError, code: int) -> None:
    import io

    from bridge.console import guarded

    err = io.StringIO()

    def fail() -> None:
        print("what the command printed before it failed")
        raise error

    assert guarded(fail, err, prog="bridge") == code
    assert err.getvalue() == f"bridge: {error}\n"
    assert guarded(lambda: None, err) == 0
