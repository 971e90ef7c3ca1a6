"""Scenario 2, queue workers: the order-event format and rules, the consuming core (batches, dedupe,
ack after commit, retries, dead letters, metrics), queue names, run parameters, and a worker run."""
