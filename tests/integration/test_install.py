"""`pip install .[all]` into an empty venv gives a working bridge: `bridge --help` lists the commands and
`bridge list` names the test stack's workflows. The project is installed from a copy of its tracked files
(a build leaves nothing in the repo), with requirements/bridge.lock as constraints so the versions are the
ones CI pins (and uv's cache makes it fast)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = [pytest.mark.install]

UV = REPO / ".venv" / "bin" / "uv"
LOCK = ["-c", str(REPO / "requirements" / "bridge.lock")]  # constraints: the versions CI pins


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty venv with the project and its `all` extra installed: its bin directory."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout
    for name in filter(None, tracked.split("\0")):
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    venv = root / "venv"
    subprocess.run([str(UV), "venv", "-q", "--python", "3.11", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"{src}[all]", *LOCK],
        check=True,
        timeout=540,
        env={**os.environ, "UV_LINK_MODE": "copy"},
    )
    return venv / "bin"


def bridge(
    bin_dir: Path, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    return subprocess.run(["bridge", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_bridge_help_lists_the_commands(installed: Path, tmp_path: Path) -> None:
    result = bridge(installed, ["--help"], dict(os.environ), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: bridge")
    for command in ("list", "trigger", "status", "report", "seed", "dev"):
        assert f"  {command} " in result.stdout


def test_bridge_list_names_the_stack_workflows(
    installed: Path, stack_env: dict[str, str], tmp_path: Path
) -> None:
    result = bridge(installed, ["list"], stack_env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello_bridge" in result.stdout
    assert shutil.which("bridge", path=f"{installed}{os.pathsep}") == str(installed / "bridge")
