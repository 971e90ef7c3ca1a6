"""A --conf, read and checked: JSON text, ``@FILE`` or ``-`` (standard input), as one dict; and the
parameters a Prefect flow takes, so a conf key it does not take is said before anything is triggered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bridge.config import ParamMapping
from bridge.errors import UsageError

__all__ = ["MAX_CONF_BYTES", "MAX_CONF_DEPTH", "fit_parameters", "json_kind", "parse_conf"]

MAX_CONF_DEPTH = 100  # nesting levels a --conf may have (deeper is a mistake, and recursion's limit)
MAX_CONF_BYTES = 16 * 1024 * 1024  # what --conf @FILE or --conf - may hold


def parse_conf(text: str | None) -> dict[str, Any]:
    """A --conf value as a dict: JSON text, ``@FILE`` (read from FILE) or ``-`` (read from standard input).
    Every mistake is one UsageError that says what to do: bad JSON (with line and column), NaN or
    Infinity, text that is not UTF-8, nesting deeper than MAX_CONF_DEPTH, an empty value, a file that
    cannot be read."""
    if text is None:
        return {}
    where = "--conf"
    if text == "-" or text.startswith("@"):
        where = "--conf -" if text == "-" else f"--conf {text}"
        text = _read_conf(text, where)
    if not text.strip():
        raise UsageError(f"{where} is empty: give a JSON object such as '{{}}', or leave --conf out")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (at character {exc.start}): give it as UTF-8") from None
    try:
        conf = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f'(char {exc.pos}); example: --conf \'{{"param1": "valor1"}}\''
        ) from None
    except RecursionError:
        raise UsageError(f"{where} is nested deeper than {MAX_CONF_DEPTH} levels: flatten it") from None
    if not isinstance(conf, dict):
        raise UsageError(f'{where} must be a JSON object like {{"key": "value"}}, not {json_kind(conf)}')
    if _depth(conf) > MAX_CONF_DEPTH:
        raise UsageError(f"{where} is nested deeper than {MAX_CONF_DEPTH} levels: flatten it")
    return conf


def _read_conf(text: str, where: str) -> str:
    """The text of ``@FILE`` or ``-`` (standard input), decoded as UTF-8."""
    import sys

    data: bytes
    try:
        if text == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is not None:
                data = stream.read(MAX_CONF_BYTES + 1)
            else:  # a text stream without bytes beneath (or none at all)
                data = sys.stdin.read(MAX_CONF_BYTES + 1).encode("utf-8") if sys.stdin is not None else b""
        else:
            with open(text[1:], "rb") as fh:
                data = fh.read(MAX_CONF_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file: give the path of a JSON file after @") from None
    except IsADirectoryError:
        raise UsageError(f"{where} is a directory: give the path of a JSON file after @") from None
    except OSError as exc:
        raise UsageError(f"{where} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_CONF_BYTES:
        raise UsageError(f"{where} holds more than {MAX_CONF_BYTES // (1024 * 1024)} MiB: too big for a conf")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None


def _no_constant(name: str) -> Any:
    raise UsageError(f"--conf holds {name}, which JSON does not have: use null, a number or a string")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar: 0), without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if level > MAX_CONF_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        todo.extend((child, level + 1) for child in children)
    return deepest


def json_kind(value: Any) -> str:
    """How JSON names the kind of ``value``: null, a boolean, a number, a string, an array."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, int | float):
        return f"a number ({json.dumps(value)})"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def fit_parameters(
    schema: Mapping[str, Any] | None, params: Mapping[str, Any], dag_id: str, mapping: ParamMapping
) -> tuple[dict[str, Any], list[str]]:
    """``params`` as the flow whose parameter schema is ``schema`` takes them, and the keys dropped.

    A key the flow does not take would crash its run after it started (Prefect accepts it, the flow's
    signature does not): refused here (UsageError naming the key and the ones it takes), unless the
    workflow's ``params.unknown`` is ``drop``. No schema (or none listing properties): all pass."""
    properties = (schema or {}).get("properties")
    if not isinstance(properties, Mapping) or (schema or {}).get("additionalProperties") is True:
        return dict(params), []
    unknown = sorted(k for k in params if k not in properties)
    if not unknown:
        return dict(params), []
    if mapping.unknown == "drop":
        return {k: v for k, v in params.items() if k not in unknown}, unknown
    names = ", ".join(repr(k) for k in unknown)
    takes = ", ".join(sorted(properties)) or "no parameters"
    raise UsageError(
        f"{dag_id}: the Prefect flow takes no parameter {names} (it takes: {takes}); nothing triggered. "
        f"Leave it out of --conf, or map it in bridge.toml [workflows.{dag_id}.params] "
        '(rename, drop, or unknown = "drop")'
    )
