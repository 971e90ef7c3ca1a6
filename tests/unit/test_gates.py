"""Each gate of `make check` can fail: the real tool, run with the Makefile's own command line and the
project's own pyproject.toml, over a tiny project in tmp_path, once clean (exit 0) and once with one offence
(exit non-zero, the rule named). The commands are read from the Makefile's `check` recipe, so the test and
the gate cannot drift apart."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = [pytest.mark.unit]

VENV_BIN = REPO / ".venv" / "bin"


def check_commands() -> dict[str, list[str]]:
    """The `check` recipe's commands, keyed by tool: `@echo "== ..." && $(VENV)/bin/TOOL ARGS`."""
    recipe = re.search(r"^check:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert recipe, "the Makefile has no check target"
    commands: dict[str, list[str]] = {}
    for line in recipe.group(1).splitlines():
        argv = shlex.split(line.split("&&", 1)[1].replace("$(VENV)/bin/", f"{VENV_BIN}/"))
        argv = [str(REPO / a) if a.endswith(".py") and (REPO / a).is_file() else a for a in argv]
        key = Path(argv[0]).name if Path(argv[0]).name != "python" else Path(argv[1]).stem
        commands[f"{key} {argv[1]}" if key == "ruff" else key] = argv
    return commands


COMMANDS = check_commands()


def run(gate: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPY_CACHE_DIR": str(cwd.parent / "mypy-cache")}
    return subprocess.run(COMMANDS[gate], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def contract_modules(config: dict[str, object]) -> set[str]:
    """Every module the import-linter contracts name, so the skeleton holds them all."""
    names: set[str] = set()
    for contract in config["contracts"]:  # type: ignore[attr-defined]
        for key in ("source_modules", "forbidden_modules", "modules", "ancestors"):
            names.update(contract.get(key, []))
        for container in contract.get("containers", []):
            for layer in contract.get("layers", []):
                names.update(f"{container}.{m.strip(' ()')}" for m in re.split(r"[|:]", layer))
    return names


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A clean miniature of the repo: the real pyproject.toml and a package for every module it names."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    modules = contract_modules(pyproject["tool"]["importlinter"]) | set(pyproject["tool"]["mypy"]["files"])
    for name in sorted(modules):
        if name.endswith(".py"):
            (root / name).write_text('"""A script."""\n')
            continue
        package = root.joinpath(*name.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(f'"""{name}."""\n')
    # Outside bridge/ mypy checks by default only: an untyped function there is not an error.
    (root / "pipelines" / "common" / "untyped.py").write_text(
        '"""Untyped."""\n\n\ndef double(x):\n    return x * 2\n'
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    return root


def test_the_check_recipe_runs_every_gate_and_make_test_runs_check() -> None:
    assert set(COMMANDS) == {"ruff check", "ruff format", "mypy", "lint-imports", "check_module_size"}
    assert COMMANDS["ruff format"][2:] == ["--check", "."]
    test_rule = re.search(r"^test:(.*)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert test_rule and "check" in test_rule.group(1).split("##")[0].split()


def test_ruff_lint_fails_on_a_lint_error(project: Path) -> None:
    assert run("ruff check", project).returncode == 0
    (project / "bridge" / "offence.py").write_text('"""Config."""\n\nimport os\n')
    result = run("ruff check", project)
    assert result.returncode != 0
    assert "F401" in result.stdout


def test_ruff_format_fails_on_an_unformatted_file(project: Path) -> None:
    assert run("ruff format", project).returncode == 0
    (project / "bridge" / "offence.py").write_text('"""Config."""\n\nTIMEOUT={ "a":1 }\n')
    result = run("ruff format", project)
    assert result.returncode != 0
    assert "File would be reformatted\n --> bridge/offence.py" in result.stdout


def test_mypy_is_strict_over_bridge(project: Path) -> None:
    assert run("mypy", project).returncode == 0, run("mypy", project).stdout
    (project / "bridge" / "offence.py").write_text('"""Config."""\n\n\ndef double(x):\n    return x * 2\n')
    result = run("mypy", project)
    assert result.returncode != 0
    assert (
        "bridge/offence.py:4: error: Function is missing a type annotation  [no-untyped-def]" in result.stdout
    )
    assert "pipelines/common/untyped.py" not in result.stdout


def test_mypy_fails_on_a_type_error_outside_bridge(project: Path) -> None:
    (project / "pipelines" / "common" / "typed.py").write_text('"""Typed."""\n\nCOUNT: int = "three"\n')
    result = run("mypy", project)
    assert result.returncode != 0
    assert "[assignment]" in result.stdout


def test_lint_imports_fails_on_a_forbidden_import(project: Path) -> None:
    kept = run("lint-imports", project)
    assert kept.returncode == 0, kept.stdout
    (project / "pipelines" / "__init__.py").write_text('"""pipelines."""\n\nimport bridge\n')
    result = run("lint-imports", project)
    assert result.returncode != 0
    assert "pipelines is not allowed to import bridge" in result.stdout
    assert "BROKEN" in result.stdout


def test_lint_imports_fails_on_an_upward_import_in_the_bridge(project: Path) -> None:
    (project / "bridge" / "errors" / "__init__.py").write_text('"""errors."""\n\nimport bridge.cli\n')
    result = run("lint-imports", project)
    assert result.returncode != 0
    assert "bridge.errors is not allowed to import bridge.cli" in result.stdout


def test_module_size_fails_on_a_module_over_400_lines(project: Path) -> None:
    big = project / "pipelines" / "common" / "big.py"
    big.write_text("x = 1\n" * 400)
    subprocess.run(["git", "-C", str(project), "add", "."], check=True)
    assert run("check_module_size", project).returncode == 0
    big.write_text("x = 1\n" * 401)
    result = run("check_module_size", project)
    assert result.returncode == 1
    assert "pipelines/common/big.py has 401 lines (limit 400)" in result.stdout


def test_lint_imports_fails_when_a_rule_imports_an_adapter(project: Path) -> None:
    (project / "pipelines" / "cron" / "__init__.py").write_text('"""cron."""\n\nimport pipelines.adapters\n')
    result = run("lint-imports", project)
    assert result.returncode != 0
    assert "pipelines.cron is not allowed to import pipelines.adapters" in result.stdout
