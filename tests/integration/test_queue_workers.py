"""The queue workers' consuming core against real RabbitMQ (127.0.0.1:5672) and a real SQS endpoint (a moto
server of this module's own), writing into the session's PostgreSQL warehouse: draining, fanout to a
shadow target, competing consumers, stop conditions. Faults: ``test_queue_faults``.

Every test gets a stream of its own and targets named after the session, so queues, exchanges and
outcome tables never meet another test's or a developer's; queues are deleted at the end of each test.
"""

from __future__ import annotations

import threading
import time

from pipelines.adapters.outcome_store import prepare_outcomes
from pipelines.jobs.queue_worker import broker_admin
from pipelines.queues.consumer import QueueConsumer
from tests.helpers import wait_for
from tests.integration.queue_lanes import Lane, balanced, ids, small

# -- draining, fanout, competing consumers ---------------------------------------------------------------


def test_a_run_drains_its_queue_and_a_shadow_target_keeps_its_own_copy(lane: Lane) -> None:
    n = small(lane, 400, 120)
    primary, shadow = lane.target("primary"), lane.target("shadow")
    sent = lane.publish(n, [primary, shadow], duplicates=5)
    assert sent["published"] == n + 5
    first = lane.drain(primary, batch_size=50)
    m = first.metrics
    assert (first.stopped, m.received, m.processed, m.duplicates) == ("empty", n + 5, n, 5)
    assert {r[0] for r in lane.rows(primary)} == ids(n) and len(lane.rows(primary)) == n
    assert lane.depths(shadow)[lane.names(shadow).main] == n + 5  # the primary took none of the shadow's
    second = lane.drain(shadow, batch_size=50)
    assert second.metrics.processed == n
    assert lane.rows(shadow) == lane.rows(primary)  # same messages, same rules: identical outcome tables
    assert lane.depths(primary)[lane.names(primary).main] == lane.depths(shadow)[lane.names(shadow).main] == 0


def test_three_concurrent_consumers_write_every_outcome_exactly_once(lane: Lane) -> None:
    n = small(lane, 600, 150)
    target = lane.target("crowd")
    prepare_outcomes(target, lane.warehouse)
    broker_admin(lane.broker).prepare(lane.names(target), lane.url)
    results: list[QueueConsumer] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(lane.drain(target, batch_size=20, wait_seconds=20.0, idle_seconds=1.5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    if lane.broker == "rabbitmq":
        from pipelines.adapters.rabbitmq import connect

        def consumers() -> bool:
            conn = connect(lane.url)
            try:
                return (
                    conn.channel().queue_declare(lane.names(target).main, passive=True).method.consumer_count
                    == 3
                )
            finally:
                conn.close()

        wait_for(consumers, 30, "three consumers on the queue", interval=0.2)
    else:
        time.sleep(2.0)  # SQS has no consumer count: give the three long polls time to start
    lane.publish(n, [target], duplicates=10)
    for t in threads:
        t.join(120)
    assert not errors, errors
    metrics = [c.metrics for c in results]
    assert len(metrics) == 3 and all(balanced(m) for m in metrics)
    assert sum(m.processed for m in metrics) == n
    # the 10 published twice, plus any SQS redelivered after its 3 s visibility timeout ran out
    assert sum(m.duplicates for m in metrics) >= 10
    assert sum(m.received for m in metrics) == n + sum(m.duplicates for m in metrics)
    if lane.broker == "rabbitmq":
        assert sum(m.duplicates for m in metrics) == 10
    assert sum(m.received > 0 for m in metrics) >= (3 if lane.broker == "rabbitmq" else 2), metrics
    rows = lane.rows(target)
    assert len(rows) == n and {r[0] for r in rows} == ids(n)


def test_a_run_stops_at_max_messages_and_at_its_time_budget(rabbit: Lane) -> None:
    target = rabbit.target("budget")
    rabbit.publish(100, [target])
    capped = rabbit.drain(target, batch_size=10, max_messages=30)
    assert (capped.stopped, capped.metrics.received, len(rabbit.rows(target))) == ("max_messages", 30, 30)
    assert rabbit.depths(target)[rabbit.names(target).main] == 70  # the prefetched rest went back
    empty = rabbit.target("empty")
    started = time.monotonic()
    timed = rabbit.drain(empty, max_seconds=1.0, wait_seconds=30.0)
    assert timed.stopped == "max_seconds" and time.monotonic() - started < 5
