"""Order events on the queues: the message format, a deterministic generator, and the rule that turns an
event into its outcome. Pure: no broker, no database.

Message (UTF-8 JSON object, ~200 bytes)::

    {"message_id": "ord-7-0000042", "type": "order.created", "occurred_at": "2024-06-01T00:00:42Z",
     "order": {"order_id": "o-0000042", "customer_id": "c-01234", "currency": "BRL",
               "items": [{"sku": "SKU-00042", "qty": 2, "unit_price": "19.90"}]}}

``message_id`` is the idempotency key: an outcome is written once per id, however often the message is
delivered. Publishers also put it in the broker's own message id (AMQP ``message_id`` property, SQS
message attribute), so even a body that is not JSON can be dead-lettered under its id.

Three things can happen to a delivery:

- ``decode_message`` refuses it (not JSON, not an object, no ``message_id``): ``MalformedMessageError``.
  Retrying cannot help; the consumer dead-letters it at once, the parse error as the reason.
- ``handle_event`` raises (here ``EventError``: an unknown type, a field of the wrong shape; in general
  anything, a bug or a blip): the consumer cannot tell which, so it retries with backoff and
  dead-letters after N attempts.
- ``handle_event`` returns an ``Outcome``: ``accepted``, or ``rejected`` with a business reason
  (unsupported currency, no items, a non-positive quantity). A rejection is a result, not an error.

Outcomes hold no time, worker or attempt number: the same message gives the same row on either
orchestrator, so a primary's and a shadow's outcome tables can be compared row for row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from pipelines.errors import EventError, MalformedMessageError

EVENT_TYPES = ("order.created", "order.paid", "order.cancelled")
CURRENCIES = frozenset({"BRL", "USD", "EUR"})
MAX_ID_LENGTH = 128

ACCEPTED = "accepted"
REJECTED = "rejected"
DEAD_LETTERED = "dead_lettered"


class Outcome(NamedTuple):
    """One row of ``<target>.order_outcomes``, in column order."""

    message_id: str
    event_type: str | None
    order_id: str | None
    customer_id: str | None
    status: str
    item_count: int | None
    total_cents: int | None
    currency: str | None
    reason: str | None


OUTCOME_COLUMNS = Outcome._fields


# -- reading ---------------------------------------------------------------------------------------------


def decode_message(body: bytes | str) -> dict[str, Any]:
    """The event in ``body``; ``MalformedMessageError`` if it is not a JSON object with a string ``message_id``."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedMessageError(f"invalid JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise MalformedMessageError(f"expected a JSON object, got {type(event).__name__}")
    message_id = event.get("message_id")
    if not isinstance(message_id, str) or not message_id or len(message_id) > MAX_ID_LENGTH:
        raise MalformedMessageError(f"no usable message_id (a string of 1-{MAX_ID_LENGTH} characters)")
    return event


def body_id(body: bytes) -> str:
    """A stand-in message id for a body that carries none: ``sha256:`` and 32 hex digits of its hash."""
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]


def _text(order: Mapping[str, Any], key: str) -> str:
    value = order.get(key)
    if not isinstance(value, str) or not value:
        raise EventError(f"order.{key} must be a non-empty string, got {value!r}")
    return value


def price_cents(text: object) -> int:
    """``"19.90"`` -> 1990. ``EventError`` unless a plain decimal with at most two places, not negative."""
    if not isinstance(text, str):
        raise EventError(f"unit_price must be a decimal string, got {text!r}")
    units, dot, cents = text.partition(".")
    plain = units.isascii() and units.isdigit() and (not dot or (cents.isascii() and cents.isdigit()))
    if not plain or len(cents) > 2:
        raise EventError(f"unit_price must look like 19.90, got {text!r}")
    return int(units) * 100 + (int(cents.ljust(2, "0")) if cents else 0)


def handle_event(event: Mapping[str, Any]) -> Outcome:
    """The outcome of one decoded event; ``EventError`` if its shape is wrong (see the module docstring)."""
    message_id = event["message_id"]
    event_type = event.get("type")
    if event_type not in EVENT_TYPES:
        raise EventError(f"unknown event type {event_type!r}")
    order = event.get("order")
    if not isinstance(order, dict):
        raise EventError(f"order must be an object, got {type(order).__name__}")
    order_id, customer_id, currency = (
        _text(order, "order_id"),
        _text(order, "customer_id"),
        _text(order, "currency"),
    )
    items = order.get("items")
    if not isinstance(items, list):
        raise EventError(f"order.items must be a list, got {type(items).__name__}")
    total = 0
    problem = None
    for item in items:
        if not isinstance(item, dict):
            raise EventError(f"each item must be an object, got {type(item).__name__}")
        sku, qty = item.get("sku"), item.get("qty")
        if not isinstance(sku, str) or not sku:
            raise EventError(f"item sku must be a non-empty string, got {sku!r}")
        if not isinstance(qty, int) or isinstance(qty, bool):
            raise EventError(f"item {sku} qty must be an integer, got {qty!r}")
        total += qty * price_cents(item.get("unit_price"))
        if qty <= 0 and problem is None:
            problem = f"item {sku} has quantity {qty}"
    if currency not in CURRENCIES:
        problem = f"unsupported currency {currency!r}"
    elif not items and event_type != "order.cancelled":
        problem = "order has no items"
    return Outcome(
        message_id,
        event_type,
        order_id,
        customer_id,
        REJECTED if problem else ACCEPTED,
        len(items),
        total,
        currency,
        problem,
    )


def dead_letter_outcome(message_id: str, reason: str, event: Mapping[str, Any] | None = None) -> Outcome:
    """The row that records a dead-lettered message, with whatever of the event could be read."""
    order = event.get("order") if event else None
    order = order if isinstance(order, dict) else {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    event_type = text(event.get("type")) if event else None
    return Outcome(
        message_id,
        event_type,
        text(order.get("order_id")),
        text(order.get("customer_id")),
        DEAD_LETTERED,
        None,
        None,
        text(order.get("currency")),
        reason,
    )


# -- writing: the deterministic generator the producer publishes -----------------------------------------


def message_id_for(seed: int, index: int) -> str:
    return f"ord-{seed}-{index:07d}"


def make_event(seed: int, index: int) -> dict[str, Any]:
    """Order event number ``index`` of the stream ``seed``: the same arguments give the same event.

    About 3% carry an unsupported currency, 2% a zero quantity and 1% no items (business rejections).
    """
    h = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=16).digest()
    roll = h[0] % 100
    event_type = "order.created" if roll < 70 else "order.paid" if roll < 90 else "order.cancelled"
    currency = ("BRL", "BRL", "BRL", "USD", "EUR")[h[1] % 5]
    if h[2] % 100 < 3:
        currency = "XXX"
    n_items = 0 if h[3] % 100 < 1 else 1 if h[4] % 100 < 92 else 2
    items = []
    for k in range(n_items):
        qty = 0 if h[5] % 100 < 2 and k == 0 else 1 + h[6 + k] % 5
        cents = 100 + int.from_bytes(h[8 + 2 * k : 10 + 2 * k], "big") % 49_900
        items.append(
            {
                "sku": f"SKU-{h[12 + k] * 256 + h[14]:05d}",
                "qty": qty,
                "unit_price": f"{cents // 100}.{cents % 100:02d}",
            }
        )
    second = index % 86_400
    return {
        "message_id": message_id_for(seed, index),
        "type": event_type,
        "occurred_at": f"2024-06-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z",
        "order": {
            "order_id": f"o-{index:07d}",
            "customer_id": f"c-{h[15] * 97 % 10_000:05d}",
            "currency": currency,
            "items": items,
        },
    }


def make_poison(seed: int, index: int) -> dict[str, Any]:
    """A readable event no handler accepts (``items`` is not a list): retried, then dead-lettered."""
    event = make_event(seed, index)
    event["order"]["items"] = "not-a-list"
    return event


def make_malformed(seed: int, index: int) -> bytes:
    """A body that is not JSON (a truncated event): dead-lettered at once with the parse error."""
    return encode_event(make_event(seed, index))[:40]


def encode_event(event: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, keys in the order given."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
