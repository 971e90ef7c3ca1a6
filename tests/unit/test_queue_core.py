"""The consuming core against the in-memory broker and store: batching, exactly-once outcomes, ack after
commit, retries with backoff, dead letters, reconnects, stop conditions, metrics."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from devkit.fakes import MemoryBroker, MemoryOutcomeStore
from devkit.producer import order_messages
from pipelines.errors import BrokerUnavailableError, EventError, InvalidQueueNameError, StoreUnavailableError
from pipelines.queues.consumer import QueueConsumer
from pipelines.queues.contracts import Batch, ConsumerSettings, Metrics, backoff_delay
from pipelines.queues.events import DEAD_LETTERED, encode_event, handle_event, make_event, message_id_for
from pipelines.queues.names import QueueNames
from pipelines.queues.params import DEFAULTS, PARAM_SPECS, settings_from_params

REPO = Path(__file__).resolve().parents[2]
FAST = {"idle_seconds": 0.05, "retry_base_seconds": 0.0, "fill_seconds": 0.0}


def loaded(count: int, seed: int = 1, **kinds: int) -> MemoryBroker:
    broker = MemoryBroker()
    broker.publish_all(order_messages(count, seed, **kinds))
    return broker


def consume(broker: MemoryBroker, store: MemoryOutcomeStore | None = None, **settings: Any) -> QueueConsumer:
    store = store if store is not None else MemoryOutcomeStore()
    consumer = QueueConsumer(broker, store, ConsumerSettings(**{**FAST, **settings}), sleep=lambda s: None)
    with consumer:
        consumer.run()
    return consumer


def balanced(m: Metrics) -> bool:
    return m.received == m.processed + m.duplicates + m.retried + m.dead_lettered + m.requeued


def test_drains_the_queue_in_batches_writing_each_outcome_once() -> None:
    broker, store = loaded(250), MemoryOutcomeStore()
    c = consume(broker, store, batch_size=100)
    m = c.metrics
    assert (c.stopped, m.received, m.processed, m.batches, store.writes) == ("empty", 250, 250, 3, 3)
    assert set(store.rows) == {message_id_for(1, i) for i in range(250)}
    assert store.rows[message_id_for(1, 7)] == handle_event(make_event(1, 7))
    assert len(broker.acked) == 250 and not broker.unacked and not broker.ready
    assert m.rejected == sum(r.status == "rejected" for r in store.rows.values()) > 0
    assert balanced(m) and m.seconds > 0 and m.as_dict()["msg_per_s"] > 0


def test_published_duplicates_are_settled_without_a_second_outcome() -> None:
    broker, store = loaded(50, duplicates=10), MemoryOutcomeStore()
    m = consume(broker, store, batch_size=7).metrics
    assert (m.received, m.processed, m.duplicates) == (60, 50, 10)
    assert len(store.rows) == 50 and balanced(m)


def test_a_crash_between_commit_and_ack_redelivers_and_the_redelivery_is_a_duplicate() -> None:
    broker, store = loaded(30), MemoryOutcomeStore()

    def crash(batch: Batch) -> None:
        raise KeyboardInterrupt("killed after commit")

    first = QueueConsumer(broker, store, ConsumerSettings(batch_size=10, **FAST), on_commit=crash)
    with pytest.raises(KeyboardInterrupt), first:
        first.run()
    assert len(store.rows) == 10 and not broker.acked  # written, never acked, back in the queue
    assert all(d.redelivered for d in list(broker.ready)[:10])
    m = consume(broker, store, batch_size=10).metrics
    assert (m.received, m.processed, m.duplicates) == (30, 20, 10)
    assert len(store.rows) == 30 and balanced(m)


def test_a_failing_handler_is_retried_with_backoff_then_succeeds() -> None:
    failures: dict[str, int] = {}

    def flaky(event: Any) -> Any:
        mid = event["message_id"]
        if mid.endswith("3") and failures.get(mid, 0) < 2:
            failures[mid] = failures.get(mid, 0) + 1
            raise TimeoutError("payment service timed out")
        return handle_event(event)

    broker, store = loaded(20), MemoryOutcomeStore()
    consumer = QueueConsumer(broker, store, ConsumerSettings(**FAST, max_attempts=3), handler=flaky)
    with consumer:
        m = consumer.run()
    assert (m.retried, m.processed, m.dead_lettered) == (4, 20, 0)  # two ids ending in 3, two retries each
    assert len(store.rows) == 20 and not broker.dead and balanced(m)


def test_poison_goes_to_the_dead_letter_queue_after_max_attempts_with_the_reason() -> None:
    broker, store = loaded(20, poison=1), MemoryOutcomeStore()
    m = consume(broker, store, max_attempts=4).metrics
    assert (m.received, m.retried, m.dead_lettered, m.processed) == (23, 3, 1, 19)
    [dead] = broker.dead
    assert dead.attempts == 4 and "failed 4 attempt(s)" in dead.reason and "EventError" in dead.reason
    assert (
        store.rows[dead.message_id].status == DEAD_LETTERED
        and store.rows[dead.message_id].reason == dead.reason
    )
    assert balanced(m)


def test_malformed_json_goes_to_the_dead_letter_queue_at_once_with_the_parse_error() -> None:
    broker, store = loaded(20, malformed=1), MemoryOutcomeStore()
    broker.publish(b"not json at all")  # no broker-level id either
    m = consume(broker, store, max_attempts=5).metrics
    assert (m.dead_lettered, m.malformed, m.retried) == (2, 2, 0)
    reasons = {d.message_id: d.reason for d in broker.dead}
    assert all(r.startswith("malformed message: invalid JSON: ") for r in reasons.values())
    assert all(d.attempts == 1 for d in broker.dead)
    dead_ids = {mid for mid, row in store.rows.items() if row.status == DEAD_LETTERED}
    assert len(dead_ids) == 2 and any(mid.startswith("sha256:") for mid in dead_ids)
    assert message_id_for(1, 10) in dead_ids  # the broker's id names the unreadable body


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_delay(a, 1.0, 60.0) for a in (1, 2, 3, 7, 8)] == [1.0, 2.0, 4.0, 60.0, 60.0]
    assert backoff_delay(3, 0.0, 60.0) == 0.0


def test_a_lost_connection_at_ack_reconnects_and_the_batch_comes_back_as_duplicates() -> None:
    broker, store = loaded(40), MemoryOutcomeStore()
    broker.fail("ack")
    m = consume(broker, store, batch_size=10).metrics
    assert m.reconnects == 1 and broker.opens == 2
    assert (m.received, m.processed, m.duplicates) == (50, 40, 10)
    assert len(store.rows) == 40 and balanced(m)


def test_a_lost_connection_before_commit_requeues_the_whole_batch() -> None:
    broker, store = loaded(20, poison=1), MemoryOutcomeStore()
    broker.fail("retry")
    m = consume(broker, store, batch_size=50, max_attempts=2).metrics
    assert m.requeued == 20 and m.reconnects == 1
    assert len(store.rows) == 20 and balanced(m)


def test_a_lost_connection_while_fetching_or_checking_reconnects() -> None:
    broker, store = loaded(20), MemoryOutcomeStore()
    broker.fail("fetch", 2)
    broker.fail("pending")
    m = consume(broker, store).metrics
    assert m.reconnects == 3 and m.processed == 20


def test_reconnecting_gives_up_after_the_limit() -> None:
    broker = loaded(5)
    consumer = QueueConsumer(
        broker, MemoryOutcomeStore(), ConsumerSettings(**FAST, reconnect_limit=3), sleep=lambda s: None
    )
    with consumer:
        broker.fail("fetch")
        broker.fail("open", 3)
        with pytest.raises(BrokerUnavailableError, match="no connection after 3 attempts"):
            consumer.run()


def test_a_lost_store_connection_is_retried() -> None:
    broker, store = loaded(20), MemoryOutcomeStore()
    store.fail("write", 2)
    m = consume(broker, store).metrics
    assert m.store_retries == 2 and store.resets == 2 and len(store.rows) == 20


def test_a_store_that_stays_down_fails_the_run_and_nothing_is_acked() -> None:
    broker, store = loaded(20), MemoryOutcomeStore()
    store.fail("write", 10)
    with pytest.raises(StoreUnavailableError):
        consume(broker, store, store_attempts=3)
    assert not broker.acked and len(broker.ready) == 20


def test_max_messages_stops_and_leaves_the_rest_in_the_queue() -> None:
    broker = loaded(100)
    c = consume(broker, batch_size=30, max_messages=45)
    assert (c.stopped, c.metrics.received, c.metrics.batches) == ("max_messages", 45, 2)
    assert len(broker.ready) == 55


def test_the_time_budget_stops_a_run_waiting_on_an_empty_queue() -> None:
    c = consume(MemoryBroker(), max_seconds=0.2, idle_seconds=30.0)
    assert c.stopped == "max_seconds" and c.metrics.received == 0 and 0.15 < c.clock() - c._started < 2


def test_the_run_waits_for_retries_in_backoff_before_calling_the_queue_empty() -> None:
    broker = loaded(5, poison=1)
    c = consume(broker, max_attempts=2, retry_base_seconds=0.3, idle_seconds=0.05)
    assert c.stopped == "empty" and c.metrics.dead_lettered == 1  # came back after 0.3 s > idle_seconds


@pytest.mark.parametrize(
    "bad",
    [
        {"batch_size": 0},
        {"max_messages": 0},
        {"max_seconds": -1.0},
        {"idle_seconds": 0},
        {"max_attempts": True},
        {"retry_base_seconds": -1.0},
    ],
)
def test_settings_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ConsumerSettings(**bad)


def test_params_turn_into_settings_with_the_defaults() -> None:
    assert settings_from_params({}) == ConsumerSettings()
    s = settings_from_params({"batch_size": 50, "max_seconds": 60, "target": "x"})
    assert (s.batch_size, s.max_seconds, s.max_attempts) == (50, 60.0, 5)
    assert set(PARAM_SPECS) == set(DEFAULTS)


def test_the_flows_take_the_same_parameters_and_defaults_as_the_dags() -> None:
    """flows/queue_workers.py is read, not imported (importing prefect takes seconds)."""
    tree = ast.parse((REPO / "flows" / "queue_workers.py").read_text())
    flows = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("rabbitmq_worker", "sqs_worker")
    ]
    assert len(flows) == 2
    for fn in flows:
        names = [a.arg for a in fn.args.args]
        defaults = [ast.literal_eval(d) if not isinstance(d, ast.Name) else d.id for d in fn.args.defaults]
        assert names == list(DEFAULTS)
        expected = [DEFAULTS[n] for n in names]
        expected[:2] = ["DEFAULT_TARGET", "DEFAULT_STREAM"]
        assert defaults == expected


def test_queue_names_follow_stream_and_target_and_fit_sqs() -> None:
    n = QueueNames("orders", "shadow_prefect")
    assert (n.exchange, n.main, n.retry, n.dlq) == (
        "orders",
        "orders-shadow_prefect",
        "orders-shadow_prefect-retry",
        "orders-shadow_prefect-dlq",
    )
    for stream, target in (("Orders", "t"), ("orders-x", "t"), ("o" * 41, "t"), ("o" * 20, "a" * 63)):
        with pytest.raises(ValueError):
            QueueNames(stream, target)
    assert issubclass(InvalidQueueNameError, ValueError)


def test_a_handler_that_raises_anything_is_retried_not_crashed() -> None:
    def broken(event: Any) -> Any:
        raise EventError("nope")

    broker = loaded(3)
    consumer = QueueConsumer(
        broker, MemoryOutcomeStore(), ConsumerSettings(**FAST, max_attempts=1), handler=broken
    )
    with consumer:
        m = consumer.run()
    assert m.dead_lettered == 3 and all("failed 1 attempt(s)" in d.reason for d in broker.dead)
    assert encode_event(make_event(1, 0)) == broker.dead[0].body
