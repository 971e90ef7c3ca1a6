"""Deploy the zoo's Prefect counterparts where PREFECT_API_URL points: ``python -m tests.zoo.deploy``.

zoo-paused and zoo-minutely (every minute) are created paused; zoo-idle goes to a work pool of its own that no worker polls."""

from __future__ import annotations

import sys

from flows.deploy import deploy_one, ensure_work_pool
from tests.zoo.flows import DEPLOYMENTS, IDLE, MINUTELY


def main() -> int:
    for spec in (*DEPLOYMENTS, IDLE, MINUTELY):
        ensure_work_pool(spec.work_pool)
        deploy_one(spec, paused=spec.name in ("zoo-paused", "zoo-minutely"))
        print(f"deployed {spec.full_name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
