"""bridge: move batch workflows from Airflow 3 to Prefect 3 on evidence."""

__version__ = "0.1.0"

__all__ = ["__version__"]
