"""Development kit: deterministic dev-data seeders and in-memory fakes, for ``bridge seed``, the demo, the
benches and the tests. Never imported by ``pipelines`` (which it may import).

- ``catalog_seed``: the scenario-1 products catalogue (with dirt the validation must catch).
- ``etl_generate`` / ``etl_seed``: the scenario-3 source rows (pure generators) and their bulk load.
- ``producer``: publish deterministic order events to a stream (scenario 2), also ``python -m devkit.producer``.
- ``fakes``: an in-memory broker and outcome store for unit tests of the consuming core.
"""
