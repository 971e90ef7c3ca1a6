"""Issue 15, point 1: a shadow run whose report cannot be written still gives the caller the primary's
outcome and the verdict line; the failed report is one warning line and the verdict stays stored."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bridge.backends.base import RunState
from bridge.console import Options, shadow_run
from bridge.errors import RunFailedError
from bridge.store import Store
from tests.unit.test_shadow_logic import CATALOG, Fake, _backends


def _shadow(tmp_path: Path, airflow: Fake, as_json: bool = False) -> tuple[str, str, Store]:
    backends = _backends(airflow, Fake("prefect", 1))
    backends.catalog = dataclasses.replace(CATALOG, store_url=f"sqlite:///{tmp_path / 'h.db'}")
    out, err = io.StringIO(), io.StringIO()
    shadow_run(backends, "wf", {}, Options(as_json=as_json), out, err)
    return out.getvalue(), err.getvalue(), Store(backends.catalog.store_url)


def _in_the_way(home: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "file":  # the reports folder is a file: NotADirectoryError / FileExistsError
        (home / "reports").write_text("not a folder")
    elif how == "directory":  # the report's own name is a directory: IsADirectoryError on the rename
        (home / "reports" / "wf.html").mkdir(parents=True)
    else:  # disk full (as root, a chmod would not stop the write: ENOSPC is raised where it would be)

        def full(self: Path, *args: Any, **kwargs: Any) -> int:
            self.open("w").close()  # the half-written file the failure leaves
            raise OSError(errno.ENOSPC, "No space left on device", str(self))

        monkeypatch.setattr(Path, "write_text", full)


@pytest.mark.parametrize("how", ["file", "directory", "disk full"])
def test_an_unwritable_report_is_one_warning_and_the_verdict_line_and_exit_code_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("BRIDGE_HOME", str(home))
    _in_the_way(home, how, monkeypatch)
    out, err, store = _shadow(tmp_path, Fake("airflow", 1))
    [warning] = err.splitlines()
    assert warning.startswith("warning: report not written (") and "Traceback" not in err
    assert "the verdict is stored" in warning
    [verdict] = out.splitlines()
    assert verdict.startswith("shadow wf: match (0 differences); airflow success") and verdict.endswith(
        "report: not written"
    )
    [stored] = store.history("wf")
    assert stored["verdict"] == "match"
    assert not list(home.rglob("*.tmp"))  # no half-written report left behind


def test_with_json_the_report_is_null_and_the_exit_code_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    (tmp_path / "reports").write_text("not a folder")
    out, err, _ = _shadow(tmp_path, Fake("airflow", 1), as_json=True)
    doc = json.loads(out)
    assert (doc["verdict"], doc["report"], doc["exit_code"]) == ("match", None, 0)
    assert err.startswith("warning: report not written (")


def test_a_failed_primary_still_exits_1_after_the_verdict_line_when_the_report_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    (tmp_path / "reports").write_text("not a folder")
    backends = _backends(Fake("airflow", 1, state=RunState.FAILED), Fake("prefect", 1))
    backends.catalog = dataclasses.replace(CATALOG, store_url=f"sqlite:///{tmp_path / 'h.db'}")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(RunFailedError) as raised:
        shadow_run(backends, "wf", {}, Options(), out, err)
    assert raised.value.exit_code == 1
    assert out.getvalue().startswith("shadow wf: primary_failed")
    assert err.getvalue().startswith("warning: report not written (")
