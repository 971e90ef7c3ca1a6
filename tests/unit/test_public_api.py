"""Every name a bridge module lists in __all__ exists, and the CLIs' start-up stays light."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import bridge


def test_every_name_in_all_exists() -> None:
    checked = 0
    for info in pkgutil.walk_packages(bridge.__path__, "bridge."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name) or getattr(module, name, None) is not None, f"{info.name}.{name}"
            checked += 1
    assert checked > 40


def test_the_list_path_imports_neither_orchestrator_client() -> None:
    """`--list` must not pay for `import prefect` (1.3-3 s) or `import airflow_client` (~2 s)."""
    code = (
        "import sys; sys.argv = ['x']; from bridge import console; from bridge.console import runs; "
        "from bridge import operations, config; from bridge.backends import airflow, prefect; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('prefect', 'airflow_client', 'sqlalchemy', 'deepdiff', 'psycopg', 'pymysql')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
