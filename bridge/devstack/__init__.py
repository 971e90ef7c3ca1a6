"""The local stack: real Airflow 3 and Prefect 3 processes, their workers and an SQS endpoint."""

from bridge.devstack.settings import StackSettings
from bridge.devstack.stack import ServiceStatus, down, drop_databases, logs, status, up

__all__ = ["ServiceStatus", "StackSettings", "down", "drop_databases", "logs", "status", "up"]
