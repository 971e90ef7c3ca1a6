"""`bridge check`: one line per condition a shadow needs (ok / FAIL / warn, a failure's fix beside it), or
with --json one object: {"checks": [{workflow, check, ok, detail, fix}...], "failed", "unknown",
"exit_code"}. Exit 7 when any check failed (see bridge.check.CheckFailedError)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bridge.console.common import Options, backends_for


def check_line(result: object) -> str:
    """``ok   etl_orders: deployment ... takes target`` / ``FAIL etl_orders: ...  fix: ...``."""
    from bridge.check import CheckResult

    assert isinstance(result, CheckResult)
    fix = f"  fix: {result.fix}" if result.fix and result.ok is not True else ""
    return f"{result.status:<4} {result.workflow}: {result.detail}{fix}"


def check(dag_ids: Sequence[str], opts: Options) -> None:
    """Check the named catalogued workflows (all when none is) against the live servers."""
    from bridge.check import CheckFailedError, check_workflow, selected

    backends = backends_for(opts)
    entries = selected(backends.catalog.workflows, dag_ids)
    results = []
    for entry in entries:
        found = check_workflow(backends, entry)
        results.extend(found)
        if not opts.as_json:
            for result in found:
                print(check_line(result), flush=True)
    failed = [r for r in results if r.ok is False]
    unknown = [r for r in results if r.ok is None]
    code = CheckFailedError.exit_code if failed else 0
    if opts.as_json:
        doc = {
            "checks": [r.to_dict() for r in results],
            "failed": len(failed),
            "unknown": len(unknown),
            "exit_code": code,
        }
        print(json.dumps(doc, indent=2))
    else:
        tail = f", {len(unknown)} not known yet" if unknown else ""
        print(f"{len(entries)} workflows, {len(results)} checks: {len(failed)} failed{tail}")
    if failed:
        names = ", ".join(dict.fromkeys(f"{r.workflow} {r.check}" for r in failed))
        error = CheckFailedError(f"{len(failed)} checks failed ({names}): each FAIL line says the fix")
        error.printed = opts.as_json
        raise error
