#!/usr/bin/env bash
# Wait until the Prefect API answers, then register the deployments: python -m flows.deploy "$@".
# Needs PREFECT_API_URL (e.g. http://prefect-server:4200/api). Used by the `deployer` service.
set -euo pipefail

: "${PREFECT_API_URL:?PREFECT_API_URL must be set, e.g. http://localhost:4200/api}"
health_url="${PREFECT_API_URL%/}/health"
max_wait=120   # seconds
interval=3

# True when GET $health_url returns 200 (python: the slim image has no curl).
api_healthy() {
    python - "$health_url" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

start=$SECONDS
until api_healthy; do
    waited=$((SECONDS - start))
    if ((waited >= max_wait)); then
        echo "deploy_flows: Prefect API not healthy at $health_url after ${max_wait}s, giving up" >&2
        exit 1
    fi
    echo "deploy_flows: waiting for $health_url (${waited}s/${max_wait}s)"
    sleep "$interval"
done

echo "deploy_flows: Prefect API is up, registering deployments"
exec python -m flows.deploy "$@"
