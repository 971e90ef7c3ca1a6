"""Scenario 1, cron jobs: product normalization and validation, pricing rules, and the two pipelines
(``process_products``, ``update_prices``) that read the source and write the warehouse."""
