"""The order-event format and rules: decoding, handling, the deterministic generator, the producer's plan."""

from __future__ import annotations

import json
import statistics
from collections import Counter

import pytest

from devkit.producer import order_messages, special_indexes
from pipelines.errors import EventError, MalformedMessageError
from pipelines.queues.events import (
    ACCEPTED,
    DEAD_LETTERED,
    REJECTED,
    body_id,
    dead_letter_outcome,
    decode_message,
    encode_event,
    handle_event,
    make_event,
    make_malformed,
    make_poison,
    message_id_for,
    price_cents,
)


def event(**order: object) -> dict[str, object]:
    base: dict[str, object] = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "currency": "BRL",
        "items": [{"sku": "SKU-1", "qty": 2, "unit_price": "19.90"}],
    }
    base.update(order)
    return {"message_id": "m-1", "type": "order.created", "order": base}


def test_decode_accepts_an_object_with_a_message_id() -> None:
    assert decode_message(b'{"message_id": "m-1", "x": 1}') == {"message_id": "m-1", "x": 1}
    assert decode_message('{"message_id": "m-\u00e9"}')["message_id"] == "m-\u00e9"


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b'{"message_id": "m-1", "type": ', "invalid JSON: Expecting value"),
        (b"\xff\xfe not utf-8", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"type": "order.created"}', "no usable message_id"),
        (b'{"message_id": ""}', "no usable message_id"),
        (b'{"message_id": 42}', "no usable message_id"),
        (json.dumps({"message_id": "x" * 129}).encode(), "no usable message_id"),
    ],
)
def test_decode_refuses_what_is_not_an_event(body: bytes, fragment: str) -> None:
    with pytest.raises(MalformedMessageError) as err:
        decode_message(body)
    assert fragment in str(err.value)


def test_an_order_is_accepted_with_its_total_in_cents() -> None:
    outcome = handle_event(
        event(
            items=[{"sku": "A", "qty": 2, "unit_price": "19.90"}, {"sku": "B", "qty": 1, "unit_price": "5"}]
        )
    )
    assert outcome.status == ACCEPTED and outcome.reason is None
    assert (outcome.total_cents, outcome.item_count, outcome.currency) == (4480, 2, "BRL")
    assert outcome.message_id == "m-1" and outcome.order_id == "o-1"


@pytest.mark.parametrize(
    "order, reason",
    [
        ({"currency": "XXX"}, "unsupported currency 'XXX'"),
        ({"items": []}, "order has no items"),
        ({"items": [{"sku": "A", "qty": 0, "unit_price": "1.00"}]}, "item A has quantity 0"),
    ],
)
def test_business_rejections_are_outcomes_not_errors(order: dict[str, object], reason: str) -> None:
    outcome = handle_event(event(**order))
    assert (outcome.status, outcome.reason) == (REJECTED, reason)


def test_a_cancellation_may_have_no_items() -> None:
    cancelled = {**event(items=[]), "type": "order.cancelled"}
    assert handle_event(cancelled).status == ACCEPTED


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda e: e.update(type="order.shipped"), "unknown event type"),
        (lambda e: e.update(order=[]), "order must be an object"),
        (lambda e: e["order"].update(items="x"), "order.items must be a list"),
        (lambda e: e["order"].update(items=["x"]), "each item must be an object"),
        (lambda e: e["order"].update(order_id=""), "order.order_id"),
        (lambda e: e["order"]["items"][0].update(qty=True), "qty must be an integer"),
        (lambda e: e["order"]["items"][0].update(qty="2"), "qty must be an integer"),
        (lambda e: e["order"]["items"][0].update(sku=None), "sku must be a non-empty string"),
        (lambda e: e["order"]["items"][0].update(unit_price="1.999"), "unit_price must look like"),
        (lambda e: e["order"]["items"][0].update(unit_price=1.5), "unit_price must be a decimal string"),
    ],
)
def test_a_wrongly_shaped_event_raises(mutate, fragment: str) -> None:  # type: ignore[no-untyped-def]
    e = event()
    mutate(e)
    with pytest.raises(EventError) as err:
        handle_event(e)
    assert fragment in str(err.value)


@pytest.mark.parametrize("text, cents", [("0", 0), ("19.9", 1990), ("19.90", 1990), ("7.05", 705)])
def test_price_cents(text: str, cents: int) -> None:
    assert price_cents(text) == cents


@pytest.mark.parametrize("text", ["-1.00", "1,00", "", ".5", "12.", "1.2.3", "١.٠٠", " 1"])
def test_price_cents_refuses(text: str) -> None:
    with pytest.raises(EventError):
        price_cents(text)


def test_the_generator_is_deterministic_small_and_mixed() -> None:
    assert make_event(7, 42) == make_event(7, 42)
    assert make_event(7, 42) != make_event(8, 42)
    assert make_event(7, 42)["message_id"] == message_id_for(7, 42) == "ord-7-0000042"
    sizes = [len(encode_event(make_event(7, i))) for i in range(2000)]
    assert 180 <= statistics.mean(sizes) <= 240
    statuses = Counter(
        handle_event(decode_message(encode_event(make_event(7, i)))).status for i in range(2000)
    )
    assert statuses[ACCEPTED] > 1700 and 40 < statuses[REJECTED] < 300


def test_poison_raises_on_every_attempt_and_malformed_does_not_parse() -> None:
    poison = decode_message(encode_event(make_poison(7, 3)))
    for _ in range(3):
        with pytest.raises(EventError):
            handle_event(poison)
    with pytest.raises(MalformedMessageError):
        decode_message(make_malformed(7, 3))


def test_dead_letter_outcome_keeps_what_could_be_read() -> None:
    row = dead_letter_outcome("m-1", "boom", make_poison(7, 3))
    assert (row.status, row.reason, row.order_id, row.total_cents) == (
        DEAD_LETTERED,
        "boom",
        "o-0000003",
        None,
    )
    assert dead_letter_outcome("m-2", "bad").event_type is None
    assert body_id(b"x") == body_id(b"x") != body_id(b"y") and body_id(b"x").startswith("sha256:")


def test_the_producer_spreads_poison_and_malformed_and_appends_duplicates() -> None:
    poison, malformed = special_indexes(100, 2, 1)
    assert len(poison) == 2 and len(malformed) == 1 and not poison & malformed
    assert special_indexes(3, 2, 1) == ({0, 1}, {2})
    with pytest.raises(ValueError):
        special_indexes(2, 2, 1)
    messages = list(order_messages(10, 5, poison=1, malformed=1, duplicates=3))
    assert len(messages) == 13
    assert [m[1] for m in messages[10:]] == [message_id_for(5, i) for i in range(3)]
    assert messages[10:] == messages[:3]
    kinds = Counter()
    for body, _ in messages[:10]:
        try:
            handle_event(decode_message(body))
            kinds["ok"] += 1
        except MalformedMessageError:
            kinds["malformed"] += 1
        except EventError:
            kinds["poison"] += 1
    assert kinds == {"ok": 8, "malformed": 1, "poison": 1}
