# Airflow 3 (api-server, scheduler, dag-processor) of the dev stack (docker-compose.yml).
# Airflow has its own lock file: it cannot share an environment with Prefect (DESIGN.md).
# Build context: the repository root.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/opt/bridge \
    AIRFLOW_HOME=/opt/airflow

# Pinned dependencies first: editing the code does not invalidate this layer.
COPY requirements/airflow.lock /tmp/requirements/airflow.lock
RUN pip install --no-deps -r /tmp/requirements/airflow.lock

# The project itself (dags_legacy/ imports pipelines/), editable so bind mounts take effect.
COPY . /opt/bridge
RUN pip install --no-deps -e /opt/bridge \
    && mkdir -p "$AIRFLOW_HOME/logs"

WORKDIR /opt/bridge
