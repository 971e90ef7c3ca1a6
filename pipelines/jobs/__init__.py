"""The runs both orchestrations call: each composes a scenario's rules with the adapters (the only layer
that knows both). ``products`` and ``prices`` (scenario 1), ``queue_worker`` (scenario 2), ``etl``
(scenario 3). Layers, top down: ``jobs`` -> ``adapters`` -> the rules (``cron``, ``queues``, ``etl``)
-> ``common`` -> ``errors``."""
