"""`python -m llm_twin.cdc [overrides...]`: the CDC watcher, warehouse change streams → RabbitMQ.

Long-running by default; `cdc.bounded=true` stops after `cdc.idle_s` without changes, `cdc.snapshot=true`
publishes every existing document first. Any Hydra override works, as with `run.py`
(`infra.mongo_port=27018`, `infra=cloud`, `cdc.queue=...`). Stops cleanly on SIGTERM / Ctrl+C: the resume
token of every confirmed change is already saved.
"""

from __future__ import annotations

import json
import logging
import signal
import sys

from llm_twin.cdc.watcher import ChangeWatcher
from llm_twin.config import CdcConfig, compose
from llm_twin.connections import Connections


def main(argv: list[str] | None = None) -> int:
    cfg = compose(sys.argv[1:] if argv is None else argv)
    cdc = CdcConfig.of(cfg.cdc)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    watcher = ChangeWatcher(Connections.of(cfg.infra), cdc)
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    try:
        if cdc.snapshot:
            for collection in cdc.collections:
                watcher.snapshot(collection)
        stats = watcher.run(bounded=cdc.bounded)
    except KeyboardInterrupt:
        stats = watcher.stats
    finally:
        watcher.close()
    print(json.dumps({"published": stats.published, "snapshot": stats.snapshot, "reconnects": stats.reconnects}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
