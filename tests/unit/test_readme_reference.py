"""The README's reference against the code, both ways, so neither can drift.

The reference section (``## Reference``) holds one table per kind, the name in backticks in the first
column: ``bridge`` commands (their options in the second column), trigger_script.py's flags, the other
entry points (their options in the second column), bridge.toml keys, environment variables, make targets
and exit codes. Each is compared with what the code has: the click tree of ``bridge.cli.main``,
argparse parsers, ``bridge.config._SCHEMA``, every ``BRIDGE_*`` name the code reads, the Makefile's rules,
every exit code the code sets. Beyond the reference, every ``--flag``, ``bridge`` command and ``BRIDGE_*``
variable the README names anywhere must exist, and its verdict example must be what the bridge prints.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
CODE_DIRS = ("bridge", "pipelines", "flows", "dags_legacy", "devkit")
CODE_FILES = ("trigger_script.py", "Makefile")
ENV_NAME = re.compile(r"\bBRIDGE_[A-Z0-9_]*[A-Z0-9]\b")  # BRIDGE_ETL_S3_* (a family, in prose) is not one
FLAG = re.compile(r"(?<![\w/.-])(--?[a-z][a-z0-9-]*)")
#: Flags of other tools the README quotes (pytest, the mariadb client, docker compose, ruff format).
FOREIGN_FLAGS = {"-m", "-q", "--batch", "--quick", "--scale", "--check", "--help", "-h"}
#: Entry points other than `bridge` and trigger_script.py: the module run with `python -m` -> its main.
ENTRY_POINTS = {
    "python -m flows.deploy": "flows.deploy",
    "python -m bridge.devstack.clean": "bridge.devstack.clean",
    "python -m devkit.producer": "devkit.producer",
    "python tools/check_module_size.py": "tools.check_module_size",
}


# ---- the README side ---------------------------------------------------------------------------------


def _readme() -> str:
    return README.read_text()


def _section(text: str, title: str, level: int = 2) -> str:
    marks = "#" * level
    match = re.search(rf"^{marks} {re.escape(title)}\s*$(.*?)(?=^#{{1,{level}}} |\Z)", text, re.M | re.S)
    assert match, f"README.md has no `{marks} {title}` section"
    return match.group(1)


def _rows(text: str) -> Iterator[list[str]]:
    """The body rows of every table in ``text``, as cells (header and separator rows skipped)."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]+\|", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if cells and cells[0].startswith("`"):
            yield cells


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _reference(kind: str) -> str:
    return _section(_section(_readme(), "Reference"), kind, level=3)


def _names(kind: str) -> set[str]:
    """The first backticked word of each row's first cell in the reference table ``kind``."""
    return {_ticked(cells[0])[0].split()[0] for cells in _rows(_reference(kind))}


def _options_of(cell: str) -> set[str]:
    return {m.group(1) for span in _ticked(cell) for m in FLAG.finditer(span)}


def _readme_commands() -> dict[str, set[str]]:
    """``{"bridge dev logs": {"-n", "--lines"}, ...}`` from the commands table."""
    out: dict[str, set[str]] = {}
    for cells in _rows(_reference("Commands")):
        words = _ticked(cells[0])[0].split()
        path = " ".join(w for w in words if re.fullmatch(r"[a-z][a-z-]*", w))
        out[path] = _options_of(cells[1]) if len(cells) > 1 else set()
    return out


def _readme_entry_points() -> dict[str, set[str]]:
    return {_ticked(c[0])[0]: _options_of(c[1]) for c in _rows(_reference("Other entry points"))}


# ---- the code side -----------------------------------------------------------------------------------


def _code_commands() -> dict[str, set[str]]:
    """Every leaf command of ``bridge`` (``bridge dev up``) and its option strings, --help aside."""
    from bridge.cli import main

    out: dict[str, set[str]] = {}

    def walk(cmd: click.Command, path: str) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")
            return
        out[path] = {
            o for p in cmd.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)
        } - {"-h", "--help"}

    walk(main, "bridge")
    return out


def _argparse_options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings} - {"-h", "--help"}


class _Parsed(Exception):
    pass


def _parser_of(main: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser a ``main(argv)`` builds, caught when it parses (nothing runs)."""

    def caught(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(self)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_args", caught)
        with pytest.raises(_Parsed) as got:
            main([])
    parser = got.value.args[0]
    assert isinstance(parser, argparse.ArgumentParser)
    return parser


def _trigger_script_options() -> set[str]:
    import trigger_script

    return _argparse_options(trigger_script._parser())


def _code_files() -> Iterator[Path]:
    for name in CODE_DIRS:
        yield from sorted((REPO / name).rglob("*.py"))
    for name in CODE_FILES:
        yield REPO / name


def _code_text() -> str:
    return "\n".join(p.read_text() for p in _code_files())


def _code_env() -> set[str]:
    return set(ENV_NAME.findall(_code_text()))


def _schema_keys(schema: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, spec in schema.items():
        name = f"{prefix}.{'<dag_id>' if key == '*' else key}".lstrip(".")
        if isinstance(spec, dict):
            keys |= _schema_keys(spec, name)
        elif isinstance(spec, list):
            keys |= _schema_keys(spec[0], f"{name}[]")
        else:
            keys.add(name)
    return keys


def _code_exit_codes() -> set[int]:
    codes = {0}
    for path in [*sorted((REPO / "bridge").rglob("*.py")), REPO / "trigger_script.py"]:
        text = path.read_text()
        codes |= {int(c) for c in re.findall(r"exit_code\"?\s*[=:]\s*(\d+)", text)}
        codes |= {int(c) for c in re.findall(r"sys\.exit\((\d+)\)", text)}
    guard = (REPO / "bridge" / "console" / "common.py").read_text()
    codes |= {int(c) for c in re.findall(r"^\s+return (\d+)$", guard, re.M)}
    return codes


def _make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


# ---- the comparisons ---------------------------------------------------------------------------------


def _same(kind: str, readme: set[Any], code: set[Any]) -> None:
    missing, extra = sorted(code - readme, key=str), sorted(readme - code, key=str)
    assert not missing and not extra, (
        f"README.md's reference ({kind}) and the code disagree:\n"
        f"  the code has, the README does not list: {missing}\n"
        f"  the README lists, the code does not have: {extra}"
    )


def test_every_bridge_command_and_option_is_in_the_reference_and_nothing_else() -> None:
    readme, code = _readme_commands(), _code_commands()
    _same("commands", set(readme), set(code))
    pairs = {(c, o) for c, opts in readme.items() for o in opts}
    _same("command options", pairs, {(c, o) for c, opts in code.items() for o in opts})


def test_every_trigger_script_flag_is_in_the_reference_and_nothing_else() -> None:
    _same("trigger_script.py flags", _names("trigger_script.py"), _trigger_script_options())


def test_every_other_entry_point_and_its_flags_are_in_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = _readme_entry_points()
    mains = {
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for folder in ("bridge", "pipelines", "flows", "devkit", "tools")
        for path in (REPO / folder).rglob("*.py")
        if '__name__ == "__main__"' in path.read_text() and path != REPO / "bridge" / "cli" / "__main__.py"
    }
    _same("entry points", set(readme), {k for k, v in ENTRY_POINTS.items() if v in mains})
    _same("entry points (modules)", set(ENTRY_POINTS.values()), mains)
    readme_pairs = {(k, o) for k, opts in readme.items() for o in opts}
    code_pairs = {
        (k, o)
        for k, module in ENTRY_POINTS.items()
        for o in _argparse_options(_parser_of(importlib.import_module(module).main, monkeypatch))
    }
    _same("entry point options", readme_pairs, code_pairs)


def test_every_bridge_toml_key_is_in_the_reference_and_nothing_else() -> None:
    from bridge import config

    _same("bridge.toml keys", _names("bridge.toml keys"), _schema_keys(config._SCHEMA))


def test_every_environment_variable_the_code_reads_is_in_the_reference() -> None:
    readme = _names("Environment variables")
    _same("BRIDGE_* variables", {n for n in readme if n.startswith("BRIDGE_")}, _code_env())
    text = _code_text()
    others = sorted(n for n in readme if not n.startswith("BRIDGE_") and n not in text)
    assert not others, f"README.md's reference lists variables no code reads: {others}"


def test_every_make_target_is_in_the_reference_and_nothing_else() -> None:
    readme = {" ".join(_ticked(c[0])[0].split()[1:2]) for c in _rows(_reference("make targets"))}
    _same("make targets", readme, _make_targets())


def test_every_exit_code_is_in_the_reference_and_nothing_else() -> None:
    _same("exit codes", {int(n) for n in _names("Exit codes")}, _code_exit_codes())


def test_every_flag_command_and_variable_the_readme_names_anywhere_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _readme()
    code = _code_commands()
    known_flags = {o for opts in code.values() for o in opts} | _trigger_script_options() | FOREIGN_FLAGS
    for module in ENTRY_POINTS.values():
        known_flags |= _argparse_options(_parser_of(importlib.import_module(module).main, monkeypatch))
    spans = re.findall(r"`([^`\n]+)`", text) + re.findall(r"^```\w*\n(.*?)^```", text, re.M | re.S)
    named = {m.group(1) for span in spans for m in FLAG.finditer(span) if m.group(1).startswith("--")}
    assert not named - known_flags, f"README.md names flags no entry point has: {sorted(named - known_flags)}"
    unknown_env = sorted(set(ENV_NAME.findall(text)) - _code_env())
    assert not unknown_env, f"README.md names variables the code never reads: {unknown_env}"
    groups = {c.split()[1] for c in code if len(c.split()) > 2}
    bad = set()
    for span in spans:
        for m in re.finditer(r"(?:^|[\s/(])bridge ([a-z][a-z|-]*)(?: ([a-z][a-z|-]*))?", span, re.M):
            for first in m.group(1).split("|"):
                if first in groups:
                    subs = (m.group(2) or "").split("|")
                    bad |= {f"bridge {first} {s}" for s in subs if s and f"bridge {first} {s}" not in code}
                elif f"bridge {first}" not in code and first not in groups:
                    bad.add(f"bridge {first}")
    assert not bad, f"README.md names bridge commands that do not exist: {sorted(bad)}"


def test_the_verdict_example_is_what_the_bridge_prints() -> None:
    from bridge.console.shadow import result_lines
    from tests.unit.test_verdict_output import mismatch

    block = re.search(r"<!-- verdict-example -->\s*```text\n(.*?)```", _readme(), re.S)
    assert block, "README.md has no verdict example (<!-- verdict-example --> then a ```text block)"
    printed = result_lines(mismatch(), ".bridge/reports/update_prices_daily.html")
    assert block.group(1).rstrip("\n").splitlines() == printed
