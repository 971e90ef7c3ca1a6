"""What both CLIs do once their flags are parsed: call the library, print, and return an exit code.

trigger_script.py (argparse, the legacy flags) and `bridge` (click) are only parsers over these functions.
Output goes to stdout; progress, warnings and errors go to stderr. A BridgeError becomes one line and its
exit code: 0 ok, 1 the run failed, 2 bad usage or input, 3 backend unreachable or auth failed, 4 mismatch.

Names are imported from their submodule on first use, so `--list` never loads the shadow machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Options": "common",
    "backends_for": "common",
    "check": "check",
    "check_line": "check",
    "guarded": "common",
    "database_errors": "data",
    "parity": "data",
    "seed_etl": "data",
    "seed_products": "data",
    "seed_queue": "data",
    "ProgressLine": "runs",
    "list_workflows": "runs",
    "move": "moves",
    "observation_dict": "runs",
    "set_paused": "runs",
    "status": "runs",
    "trigger": "runs",
    "watch": "watch",
    "ShadowProgress": "shadow",
    "calibrate": "shadow",
    "demo": "showcase",
    "gates": "gates",
    "report": "shadow",
    "shadow_run": "shadow",
    "stages": "stages",
    "workflow_status": "workflow_status",
    "write_report": "shadow",
}

__all__ = sorted(_WHERE)  # noqa: PLE0605 (the lazy names are the keys above)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'bridge.console' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"bridge.console.{_WHERE[name]}"), name)
    # Importing a submodule named like its function (workflow_status, check, gates, stages, watch) sets
    # the package's attribute to the module: the function must win, or a second call meets a module.
    globals()[name] = value
    return value
