-- Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d).
-- One server, one database per consumer.
CREATE DATABASE prefect;    -- Prefect 3 server metadata
CREATE DATABASE airflow;    -- Airflow 3 metadata
CREATE DATABASE warehouse;  -- warehouse tables used by the pipelines
