"""Shared business rules of the migrated batch jobs.

Both orchestrations call these functions: the legacy Airflow DAGs in ``dags_legacy/`` and their Prefect
ports in ``flows/``. Nothing here imports an orchestrator, ``bridge`` or ``devkit``: the DAG and the flow
are orchestration only, so a run for the same business date writes the same rows on either side.

- ``errors``: the one exception tree (``PipelineError``).
- ``hello``: the smoke workflow's rule.

``common/``: what the scenarios share.

- ``workflows``: the workflow registry: per workflow its id (the Airflow ``dag_id``), schedule, tags,
  task names, tables and description; the Prefect names derived. The only place a schedule is written.
- ``schedules``: the hourly, daily and weekly schedule shapes and their fire-time arithmetic (zoneinfo).
- ``business_date``: which business date a run processes, the way Airflow's data interval does.
- ``targets``: validate the target schema a run writes into.
- ``summary``: the run summary both orchestrators return, with a checksum of the rows written.
- ``source_schema``: the MySQL source tables, defined once (the dev seeders create them from here).
- ``tables``: a warehouse table's spec, MySQL identifier quoting.

Layers, imports pointing down only (an import-linter contract keeps the sub-packages acyclic)::

    jobs/                     the runs the orchestrations call: rules + adapters composed
    adapters/                 the I/O, implementing the rules' protocols
    cron/  queues/  etl/      each scenario's rules (no I/O)
    common/                   what the scenarios share
    errors                    the exception tree

``jobs/``: ``products`` and ``prices`` (scenario 1: ``process_products``, ``update_prices``),
``queue_worker`` (scenario 2: resolve, prepare, consume, summarize a worker run), ``etl`` (scenario 3:
the three ETLs).

``cron/`` (scenario 1): ``validation`` (normalize and validate a product), ``pricing`` (margin,
promotion and .90/.99 rounding rules).

``queues/`` (scenario 2): ``events`` (the message format, the rules deciding each outcome),
``contracts`` (delivery, batch, the broker and store protocols, settings, metrics), ``consumer`` (the
consuming core: batches, dedupe, one transaction per batch, ack after commit, retries, dead letters),
``names`` (queue names), ``params`` (run parameters).

``etl/`` (scenario 3): ``tables`` (the tables moved: source columns, warehouse types).

``adapters/``: the I/O. ``db`` (database URLs, connections), ``warehouse`` (table specs, idempotent
upsert, read-back), ``outcome_store`` (the queue outcome table), ``rabbitmq`` / ``sqs`` (the consumer
adapters) and ``rabbitmq_admin`` / ``sqs_admin`` (publish, prepare, inspect, delete), ``mysql_extract``
(streaming reads), ``loader`` and ``load_sql`` (COPY into staging, swap or merge, checksums, one
transaction), ``redshift`` (the S3 + COPY path).

Dev-data seeders and in-memory fakes live apart, in the top-level ``devkit`` package.
"""
