"""The checks of `bridge check` as pure functions over what the servers said (unit-tested); see bridge.check."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.config import WorkflowEntry
from bridge.errors import CheckFailedError, UnknownWorkflowError

__all__ = [
    "CHECKS",
    "PERSIST_FIX",
    "RUN_SUFFIX",
    "CheckFailedError",
    "CheckResult",
    "dag_target",
    "deployment_target",
    "result_problem",
    "selected",
    "table_keys",
    "task_names",
]

CHECKS = (
    "dag",
    "dag_target",
    "deployment",
    "deployment_target",
    "results",
    "task_names",
    "shadow_target",
    "table_keys",
)
RUN_SUFFIX = re.compile(r"-[0-9a-f]{3}$")  # Prefect's task run names: "<task name>-<3 hex>"
PERSIST_FIX = (
    'persist results as JSON: persist_result=True, result_serializer="json" on the @flow and on each '
    "@task (flows/common.py RESULTS), in storage this machine can read"
)


@dataclass(frozen=True)
class CheckResult:
    """One condition of one workflow: ``ok`` True (holds), False (does not: ``fix`` says what to do), or
    None (cannot be told yet: ``fix`` says how to make it tellable)."""

    workflow: str
    check: str
    ok: bool | None
    detail: str
    fix: str = ""

    @property
    def status(self) -> str:
        return {True: "ok", False: "FAIL", None: "warn"}[self.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "check": self.check,
            "ok": self.ok,
            "detail": self.detail,
            "fix": self.fix or None,
        }


def selected(entries: Mapping[str, WorkflowEntry], dag_ids: Sequence[str]) -> list[WorkflowEntry]:
    """The catalog entries named (all when none is); an id the catalog lacks is a usage error."""
    for dag_id in dag_ids:
        if dag_id not in entries:
            raise UnknownWorkflowError(dag_id, list(entries))
    return [entries[d] for d in (dict.fromkeys(dag_ids) if dag_ids else entries)]


# -- pure checks over what the servers said ---------------------------------------------------------
def _param_default(param: Any) -> Any:
    """An Airflow DAG param's default: the details payload serializes a Param as {"value", "schema"...}."""
    return param.get("value") if isinstance(param, Mapping) and "value" in param else param


def dag_target(entry: WorkflowEntry, params: Mapping[str, Any] | None) -> CheckResult:
    """The DAG's ``params`` (from its details) hold ``target`` whose default is the primary target."""
    dag_id, primary = entry.dag_id, entry.shadow.primary_target
    where = f"[workflows.{dag_id}.shadow] primary_target"
    if not params or "target" not in params:
        return CheckResult(
            dag_id,
            "dag_target",
            False,
            f"DAG {dag_id} has no `target` param: a shadow cannot tell its primary where to write",
            f"add params={{'target': Param({primary!r}, ...)}} to the DAG; it writes only into its target",
        )
    default = _param_default(params["target"])
    if default != primary:
        return CheckResult(
            dag_id,
            "dag_target",
            False,
            f"DAG {dag_id}'s `target` default is {default!r}, but {where} is {primary!r}",
            f"set {where} = {default!r}, or make the DAG's default {primary!r}",
        )
    return CheckResult(dag_id, "dag_target", True, f"DAG {dag_id} takes target (default {primary!r})")


def deployment_target(entry: WorkflowEntry, schema: Mapping[str, Any] | None) -> CheckResult:
    """The deployment's parameter schema takes the parameter the shadow target is sent as, and accepts it."""
    dag_id, dep = entry.dag_id, entry.deployment
    settings = entry.shadow
    shadow = settings.shadow_target(settings.primary_target)
    name = entry.params.rename.get("target", "target")
    if "target" in entry.params.drop:
        return CheckResult(
            dag_id,
            "deployment_target",
            False,
            f"[workflows.{dag_id}.params] drop lists `target`: the shadow target never reaches {dep}",
            "remove `target` from params.drop",
        )
    if shadow == settings.primary_target:
        return CheckResult(
            dag_id,
            "deployment_target",
            False,
            f"the shadow target is the primary target {shadow!r}: the shadow would write over the primary",
            f"set [workflows.{dag_id}.shadow] target to a namespace of its own (default shadow_<primary>)",
        )
    props = (schema or {}).get("properties") or {}
    if name not in props:
        renamed = " (renamed from target by params.rename)" if name != "target" else ""
        return CheckResult(
            dag_id,
            "deployment_target",
            False,
            f"deployment {dep} takes no `{name}` parameter{renamed}: the shadow target cannot be passed to it",
            f"give the flow a `{name}: str` parameter it writes into, or map it in [workflows.{dag_id}.params] "
            'rename = { target = "<its name>" }',
        )
    refused = _refused(shadow, props[name])
    if refused:
        return CheckResult(
            dag_id,
            "deployment_target",
            False,
            f"deployment {dep}'s `{name}` parameter refuses the shadow target {shadow!r}: {refused}",
            f"set [workflows.{dag_id}.shadow] target to a name its schema accepts",
        )
    return CheckResult(
        dag_id, "deployment_target", True, f"deployment {dep} takes {name} (the shadow writes to {shadow!r})"
    )


def _refused(value: str, spec: Mapping[str, Any]) -> str | None:
    """Why a JSON-schema property ``spec`` (a string's pattern, length, enum) refuses ``value``; None if not."""
    pattern = spec.get("pattern")
    if isinstance(pattern, str):
        try:
            if not re.search(pattern, value):
                return f"it does not match {pattern}"
        except re.error:
            pass  # an ECMA pattern Python cannot read: the server will judge
    if isinstance(spec.get("maxLength"), int) and len(value) > spec["maxLength"]:
        return f"longer than {spec['maxLength']} characters"
    if isinstance(spec.get("enum"), list) and value not in spec["enum"]:
        return f"not one of {', '.join(map(repr, spec['enum']))}"
    return None


def result_problem(data: Any, read: Callable[[Mapping[str, Any]], Any]) -> str | None:
    """Why a run's persisted result (a state's ``data``) is not one the bridge can compare; None if it is.
    ``read`` reads a state's value as the Prefect backend does (``{"unreadable_result": why}`` if it cannot)."""
    if data is None:
        return "did not persist its result"
    if not isinstance(data, Mapping) or "storage_key" not in data:
        return "kept no result record"
    serializer = (
        (data.get("serializer") or {}).get("type") if isinstance(data.get("serializer"), Mapping) else None
    )
    if serializer != "json":
        return f"serialized its result with {serializer or 'an unknown serializer'}, not json"
    try:
        value = read({"data": data})
    except Exception as exc:  # a file that is not what Prefect wrote
        return f"wrote a result the bridge cannot read ({type(exc).__name__}: {exc})"
    if isinstance(value, Mapping) and "unreadable_result" in value:
        return f"wrote a result the bridge cannot read: {value['unreadable_result']}"
    return None


def task_names(entry: WorkflowEntry, airflow: Iterable[str], prefect: Iterable[str]) -> CheckResult:
    """Airflow task ids, through ``task_map``, against the task names of the flow's last completed run."""
    dag_id, task_map = entry.dag_id, entry.shadow.task_map
    af, pf = set(airflow), set(prefect)
    stale = sorted(t for t in task_map if t not in af)
    expected = {task_map.get(t, t) for t in af}
    missing = sorted(t for t in af if task_map.get(t, t) not in pf)
    extra = sorted(pf - expected)
    problems = []
    if missing:
        problems.append(
            "Airflow tasks with no Prefect task of that name: "
            + ", ".join(f"{t}" + (f" (task_map: {task_map[t]})" if t in task_map else "") for t in missing)
        )
    if extra:
        problems.append(f"Prefect tasks no Airflow task maps to: {', '.join(extra)}")
    if stale:
        problems.append(f"task_map names tasks the DAG lacks: {', '.join(stale)}")
    if problems:
        return CheckResult(
            dag_id,
            "task_names",
            False,
            "task names do not line up: " + "; ".join(problems),
            f"name the flow's tasks like the DAG's, or map them in [workflows.{dag_id}.shadow] "
            'task_map = { <airflow task id> = "<prefect task name>" }',
        )
    mapped = f", {len(task_map)} through task_map" if task_map else ""
    return CheckResult(
        dag_id, "task_names", True, f"{len(af)} tasks line up{mapped}: {', '.join(sorted(af))}"
    )


def table_keys(entry: WorkflowEntry, found: Mapping[str, tuple[str, ...] | None]) -> CheckResult:
    """Each declared (not excluded) table has a key: declared, else ``found`` (its primary key in the primary
    target; None: no such table there)."""
    dag_id, primary = entry.dag_id, entry.shadow.primary_target
    keys, bad = [], []
    for t in entry.shadow.tables:
        if t.exclude:
            continue
        key = t.key or found.get(t.table) or ()
        if key:
            keys.append(f"{t.table} ({', '.join(key)})")
        elif found.get(t.table) is None:
            bad.append(
                f"{t.table} (no key declared, and target {primary!r} has no such table to take one from)"
            )
        else:
            bad.append(f"{t.table} (no key declared, and {primary}.{t.table} has no primary key)")
    if bad:
        return CheckResult(
            dag_id,
            "table_keys",
            False,
            f"tables without a key: {'; '.join(bad)}",
            f'declare key = ["<column>", ...] in [[workflows.{dag_id}.shadow.tables]], give the table a '
            "primary key, or exclude it with a reason",
        )
    return CheckResult(dag_id, "table_keys", True, f"declared tables have keys: {', '.join(keys)}")
