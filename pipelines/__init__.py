"""Shared business rules of the migrated batch jobs.

Both orchestrations call these functions: the legacy Airflow DAGs in ``dags_legacy/`` and their Prefect
ports in ``flows/``. Nothing here imports an orchestrator (or ``bridge``): the DAG and the flow are
orchestration only, so a run for the same business date writes the same rows on either side.

Modules, one job each:

- ``db``: database URLs from the environment, connections (pymysql / psycopg 3), create-if-missing.
- ``targets``: validate and quote the target schema a run writes into.
- ``warehouse``: table specs, idempotent upsert through a staging table, read-back of written rows.
- ``seed``: deterministic seed of the MySQL products catalogue.
- ``validation``: normalize and validate one product record (pure).
- ``products``: the ``process_products`` pipeline (incremental, watermark kept in the target).
- ``pricing``: margin, promotion and .90/.99 rounding rules (pure).
- ``prices``: the ``update_prices`` pipeline (one price-history row per product per business date).
- ``schedules``: the two cron schedules and their fire-time arithmetic (zoneinfo only).
- ``business_date``: which business date a run processes, the way Airflow's data interval does.
- ``summary``: the run summary both orchestrators return, with a checksum of the rows written.
- ``hello``: the smoke workflow's rule.

Scenario 2, queue workers:

- ``order_events``: the message format, a deterministic generator, the rules deciding each outcome.
- ``queue_core``: the consuming core (batches, dedupe, one transaction per batch, ack after commit,
  retries with backoff, dead letters, metrics); ``queue_store``: the outcome table keyed by message id.
- ``queue_rabbitmq`` / ``queue_sqs``: the broker adapters; ``queue_names``, ``queue_params``,
  ``queue_worker`` (what a run does, for both orchestrations); ``queue_seed``: the producer;
  ``queue_memory``: in-memory fakes for unit tests.

Scenario 3, ETL:

- ``etl_tables``: the tables moved; ``etl_seed``: the deterministic source generator.
- ``etl_extract``: streaming reads (the mariadb client, pymysql as fallback); ``etl_load``: COPY into
  staging, swap or merge, checksums, one transaction; ``etl_redshift``: the S3 + COPY path.
- ``etl_schedules``: the weekly schedule; ``etl``: the three ETLs.
"""
