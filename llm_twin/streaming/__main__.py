"""`python -m llm_twin.streaming [overrides...]`: the Quix Streams feature app, RabbitMQ → Kafka → Qdrant.

Long-running by default; `stream.bounded=true` drains until idle for `stream.idle_timeout_s`, then stops;
`stream.reconcile=true` re-publishes whatever differs between the warehouse and Qdrant first. Any Hydra
override works, as with `run.py`. Quix runs the RabbitMQ Source in a spawned subprocess that re-imports
this module, so the work stays under `if __name__ == "__main__":`.
"""

from __future__ import annotations

import json
import logging
import sys

from llm_twin.config import compose
from llm_twin.streaming.app import StreamSetup, run_stream


def main(argv: list[str] | None = None) -> int:
    cfg = compose(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    report = run_stream(StreamSetup.of(cfg))
    print(json.dumps(report.as_metadata()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
