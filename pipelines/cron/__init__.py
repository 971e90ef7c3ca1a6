"""Scenario 1, cron jobs, the rules: product normalization and validation (``validation``), pricing
(``pricing``). The two pipelines that run them are ``pipelines.jobs.products`` and ``.prices``."""
