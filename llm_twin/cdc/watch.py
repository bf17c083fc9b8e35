"""CDC watcher entry point.

Long-running:  python -m llm_twin.cdc.watch [--infra local] [overrides...]
Bounded:       python -m llm_twin.cdc.watch --bounded     (stop after `cdc.idle_s` without changes)
Snapshot:      python -m llm_twin.cdc.watch --snapshot    (publish every existing document first)
Stops cleanly on SIGTERM / Ctrl+C; the resume token of every confirmed change is already saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal

from llm_twin.cdc.watcher import ChangeWatcher
from llm_twin.streaming.settings import add_settings_args, settings_from_args


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Warehouse change streams → RabbitMQ")
    add_settings_args(parser)
    parser.add_argument("--bounded", action="store_true")
    parser.add_argument("--snapshot", action="store_true", help="publish all existing documents before streaming")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    settings = settings_from_args(args)
    watcher = ChangeWatcher(settings.connections, settings.features.cdc)
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    try:
        if args.snapshot:
            for collection in settings.features.cdc.collections:
                watcher.snapshot(collection)
        stats = watcher.run(bounded=args.bounded)
    except KeyboardInterrupt:
        stats = watcher.stats
    finally:
        watcher.close()
    print(json.dumps({"published": stats.published, "snapshot": stats.snapshot, "reconnects": stats.reconnects}))


if __name__ == "__main__":
    main()
