"""`make clean` keeps the shadow history unless ALL=1: the Makefile's own recipe, run in a scratch copy.

The copy runs with VENV/AVENV pointing at scratch folders, so `down` and the database step are skipped
(no venv python there) and nothing of the repo's own .bridge/ or environments is touched.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def scratch(tmp_path: Path) -> Path:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    home = tmp_path / ".bridge"
    (home / "run").mkdir(parents=True)
    (home / "reports").mkdir()
    for name in ("history.db", "history.db-wal", "stack.json", "run/airflow.pid", "reports/all.md"):
        (home / name).write_text("x")
    (tmp_path / "venv-x").mkdir()
    return tmp_path


def clean(where: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "clean", "VENV=venv-x", "AVENV=venv-y", *extra],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_clean_keeps_the_history_store(tmp_path: Path) -> None:
    where = scratch(tmp_path)
    proc = clean(where)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (where / ".bridge").iterdir()) == ["history.db", "history.db-wal"]
    assert "kept the history store .bridge/history.db (make clean ALL=1 removes it)" in proc.stdout
    assert not (where / "venv-x").exists()


def test_clean_all_removes_it_too(tmp_path: Path) -> None:
    where = scratch(tmp_path)
    proc = clean(where, "ALL=1")
    assert proc.returncode == 0, proc.stderr
    assert not (where / ".bridge").exists()
