"""The pipelines' I/O: database URLs and connections, warehouse tables, the outcome store, the RabbitMQ and
SQS brokers (consumer adapters apart from the publisher/admin tools), the MySQL extract, the loader and the
Redshift S3 path. Rules call these; these hold no business rule."""
