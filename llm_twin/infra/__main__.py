"""`python -m llm_twin.infra status|start|stop [service ...] [overrides...]`: the embedded local services.

Services are any of mongo, kafka, rabbitmq, qdrant (all by default); overrides are Hydra overrides as
with `run.py`, e.g. `python -m llm_twin.infra start mongo infra.mongo_port=27018`.
"""

from __future__ import annotations

import argparse
import sys

from llm_twin.config import compose
from llm_twin.connections import Connections
from llm_twin.infra.services import ALL_SERVICES, LocalServices, ServiceError
from llm_twin.paths import twin_home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_twin.infra", description=__doc__)
    parser.add_argument("action", choices=["status", "start", "stop"])
    parser.add_argument("services", nargs="*", default=list(ALL_SERVICES), help=f"any of {', '.join(ALL_SERVICES)}")
    args, overrides = parser.parse_known_args(argv)
    names = [n for n in args.services if "=" not in n] or list(ALL_SERVICES)
    overrides += [n for n in args.services if "=" in n]
    services = LocalServices(Connections.of(compose(["infra=local", *overrides]).infra), twin_home())
    try:
        if args.action == "start":
            services.start(names)
        elif args.action == "stop":
            stopped = services.stop()
            print(f"stopped: {', '.join(stopped) or 'nothing (no service started by the project is running)'}")
            return 0
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = services.status()
    print(f"{'service':<10} {'healthy':<8} {'managed':<9} {'pid':<8} address / detail")
    for row in rows:
        print(f"{row.name:<10} {'yes' if row.healthy else 'no':<8} {row.managed_by:<9} {row.pid or '-':<8} {row.address} {row.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
