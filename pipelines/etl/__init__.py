"""Scenario 3, ETL, the rules: the tables moved (source columns and warehouse types). The three ETL jobs:
``pipelines.jobs.etl``."""
