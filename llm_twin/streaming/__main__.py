"""`python -m llm_twin.streaming [overrides...]`: the Quix Streams feature app, RabbitMQ → Kafka → Qdrant.

Long-running by default; `stream.bounded=true` drains until idle for `stream.idle_timeout_s`, then stops;
`stream.reconcile=true` re-publishes whatever differs between the warehouse and Qdrant first. Long-running,
the app runs under a supervisor that starts it again (with a reconciliation) when it fails
(llm_twin.streaming.supervisor). Any Hydra override works, as with `run.py`. Quix runs the RabbitMQ
Source in a spawned subprocess that re-imports this module, so the work stays under `if __name__ == "__main__":`.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import sys

from llm_twin.config import compose
from llm_twin.streaming.app import StreamSetup, run_stream
from llm_twin.streaming.supervisor import supervise


def main(argv: list[str] | None = None) -> int:
    faulthandler.enable()  # a crash in a native library (librdkafka, torch) still leaves a Python traceback
    overrides = list(sys.argv[1:] if argv is None else argv)
    cfg = compose(overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    setup = StreamSetup.of(cfg)
    if setup.stream.supervise and not setup.stream.bounded:  # long-running: restarted when it fails
        return supervise(overrides, setup.stream)
    report = run_stream(setup)
    print(json.dumps(report.as_metadata()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
