"""`python -m llm_twin.monitoring recent [--limit N] [overrides...]`: the latest prompt traces.

Reads the warehouse named by the composed config (`infra`, `monitoring` groups), e.g.
`python -m llm_twin.monitoring recent --limit 5 infra=cloud`.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_twin.monitoring")
    parser.add_argument("command", choices=["recent"])
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args, overrides = parser.parse_known_args(argv)  # the rest are Hydra overrides, e.g. infra=cloud
    bad = [o for o in overrides if "=" not in o]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)}")

    from llm_twin.config import MonitoringConfig, compose
    from llm_twin.connections import Connections
    from llm_twin.monitoring.traces import MongoTraceStore

    cfg = compose(overrides)
    conn = Connections.of(cfg.infra)
    store = MongoTraceStore(conn, MonitoringConfig.of(cfg.monitoring).collection)
    try:
        traces = store.recent(args.limit)
    except Exception as exc:  # noqa: BLE001 - any failure here is reported to the user as one line
        where = conn.describe()["mongo"]
        print(f"cannot read traces from {where}: {exc} (is the warehouse running?)", file=sys.stderr)
        return 2
    for t in traces:
        if args.json:
            print(t.model_dump_json())
        else:
            print(f"{t.created_at:%Y-%m-%d %H:%M:%S} {t.endpoint:8} {t.latency_s:6.2f}s "
                  f"{t.prompt_tokens:4}+{t.completion_tokens:<4} v={t.model_version} "
                  f"chunks={len(t.retrieved_chunk_ids)} {json.dumps(t.instruction[:60])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
