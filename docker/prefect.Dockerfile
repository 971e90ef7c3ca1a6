# Prefect 3 server and process workers of the dev stack (docker-compose.yml).
# Build context: the repository root.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/opt/bridge

# Pinned dependencies first: editing the code does not invalidate this layer.
COPY requirements/bridge.lock /tmp/requirements/bridge.lock
RUN pip install --no-deps -r /tmp/requirements/bridge.lock

# The project itself, editable so code bind-mounted by compose is what runs.
COPY . /opt/bridge
RUN pip install --no-deps -e /opt/bridge

WORKDIR /opt/bridge
