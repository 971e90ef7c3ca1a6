"""Scenario 3, ETL: the tables moved (source columns and warehouse types) and the three ETL jobs."""
