"""Legacy DAG ``sqs_worker``: drain the target's SQS queue into ``<target>.order_outcomes``.

Orchestration only; the consuming core and the rules live in ``pipelines`` (``queues.worker``,
``queues.consumer``, ``queues.events``). Not scheduled: a run is triggered (by the bridge, a sensor, a person),
and several runs on one target compete for its queue (``max_active_runs`` 16), every outcome still
written once. The queue is ``<stream>-<target>`` (with ``<stream>-<target>-dlq``); the publisher tees
every message to every target's queue, so a shadow target gets its own copy. SQS endpoint from
``$BRIDGE_SQS_ENDPOINT`` (unset: real SQS). Params: ``pipelines.queues.params``.

Tasks: resolve_run >> prepare_target >> consume >> summarize. The Prefect flow ``sqs-worker`` has
the same tasks except ``consume``: there the loop is in the flow and each batch is one ``consume_batch``
task; here one task runs the whole loop. ``summarize``'s return value (the XCom of the last task) is the
run summary, identical in shape to the flow's result.
"""

from __future__ import annotations

from dag_common import queue_worker_dag

# airflow parses this file; the DAG itself is built by dag_common.queue_worker_dag.
dag_object = queue_worker_dag("sqs", __doc__)
