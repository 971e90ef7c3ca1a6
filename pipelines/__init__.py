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
"""
