"""`bridge check`: every condition a shadow run of a catalogued workflow needs, asked of the live servers.

Each check is a small function returning :class:`CheckResult` (name, ok, detail, fix). ``ok`` is None when
the servers cannot tell yet (a deployment that never completed a run: whether it persists JSON results,
and its task names, are known after its first run); such a line is shown, with its fix, but fails nothing.

    dag                 the DAG exists on Airflow
    dag_target          it takes a ``target`` param whose default equals the catalog's ``primary_target``
    deployment          the deployment exists on Prefect
    deployment_target   it takes ``target`` (as the params mapping names it), and the shadow target fits
                        its schema and differs from the primary target
    results             its last completed run persisted every result as JSON, readable from here
    task_names          Airflow task ids and Prefect task names line up (through ``task_map``)
    shadow_target       the shadow target's database lets the bridge create a table there (rolled back)
    table_keys          every declared table has a key (declared, or the primary target's primary key)

A check whose subject is missing (no DAG, no deployment) is not followed by the checks that need it.
"""

from __future__ import annotations

from bridge.check.live import check_workflow, shadow_target
from bridge.check.rules import (
    CHECKS,
    CheckFailedError,
    CheckResult,
    dag_target,
    deployment_target,
    result_problem,
    selected,
    table_keys,
    task_names,
)

__all__ = [
    "CHECKS",
    "CheckFailedError",
    "CheckResult",
    "check_workflow",
    "dag_target",
    "deployment_target",
    "result_problem",
    "selected",
    "shadow_target",
    "table_keys",
    "task_names",
]
