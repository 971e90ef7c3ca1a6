"""Scenario 2, queue workers, the rules: the order-event format and outcomes, the consuming core (batches,
dedupe, ack after commit, retries, dead letters, metrics) and the protocols its broker and store adapters
implement, queue names, run parameters. A worker run: ``pipelines.jobs.queue_worker``."""
