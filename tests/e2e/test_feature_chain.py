"""The user's path through run.py: etl (twice) → stream → features, on the sample author, isolated.

Acceptance of the data issues as a user runs them: the warehouse is filled and a re-run adds nothing;
the stream brings Qdrant in sync; the batch backfill (forced re-embed) yields identical point ids and
payloads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pymongo
import pytest

from llm_twin.config import InfraConfig, load_group
from llm_twin.connections import Connections
from llm_twin.infra.processes import free_port
from llm_twin.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _totals(summary: str) -> tuple[int, ...]:
    match = re.search(r"^total\s+(\d+)\s+(\d+)\s+(\d+)", summary, re.MULTILINE)
    assert match, summary[-2000:]
    return tuple(int(g) for g in match.groups())


def _dump_qdrant(path: Path) -> dict[str, list[tuple[str, str]]]:
    infra = load_group("infra", schema=InfraConfig).model_copy(update={"qdrant_path": str(path)})
    client = Connections.of(infra).qdrant_client()
    try:
        dump: dict[str, list[tuple[str, str]]] = {}
        for collection in sorted(c.name for c in client.get_collections().collections):
            points, offset = [], None
            while True:
                batch, offset = client.scroll(collection, limit=256, offset=offset, with_payload=True)
                points += [(str(p.id), json.dumps(p.payload, sort_keys=True)) for p in batch]
                if offset is None:
                    break
            dump[collection] = sorted(points)
        return dump
    finally:
        client.close()


def test_etl_stream_features_through_run_py(tmp_path: Path, rabbitmq_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env["LLM_TWIN_HOME"] = str(tmp_path / "twin")
    suffix = uuid.uuid4().hex[:8]
    mongo_port, kafka_port = free_port(), free_port()
    overrides = [
        f"infra.mongo_port={mongo_port}", f"infra.kafka_port={kafka_port}",
        f"cdc.exchange=e2e.{suffix}", f"cdc.queue=e2e.{suffix}",
        f"cdc.dead_letter_exchange=e2e.{suffix}.dlx", f"cdc.dead_letter_queue=e2e.{suffix}.dead",
        f"stream.topic=e2e.{suffix}", f"stream.consumer_group=e2e-{suffix}",
    ]

    def run(*args: str) -> str:
        result = subprocess.run([sys.executable, "run.py", *args, *overrides], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result.stdout

    try:
        first = run("pipeline=etl")
        assert "failed: 0" in first
        with pymongo.MongoClient(f"mongodb://127.0.0.1:{mongo_port}", serverSelectionTimeoutMS=5000) as client:
            db = client["llm_twin"]
            counts = {c: db[c].count_documents({}) for c in ("articles", "posts", "repositories", "users")}
            assert counts == {"articles": 15, "posts": 30, "repositories": 2, "users": 1}
            second = run("pipeline=etl")
            assert {c: db[c].count_documents({}) for c in counts} == counts
        assert _totals(first) == (47, 0, 0)  # new, updated, unchanged
        assert _totals(second) == (0, 0, 47)

        run("pipeline=stream")
        qdrant = tmp_path / "twin" / "qdrant"
        streamed = _dump_qdrant(qdrant)
        assert len(streamed["cleaned_posts"]) == 30 and len(streamed["cleaned_articles"]) == 15
        assert len(streamed["cleaned_code"]) == 2
        assert all(streamed[f"embedded_{t}"] for t in ("posts", "articles", "code"))

        run("pipeline=features", "pipeline.params.force=true")
        assert _dump_qdrant(qdrant) == streamed
    finally:
        subprocess.run([sys.executable, "-m", "llm_twin.infra", "stop"], cwd=PROJECT_ROOT, env=env,
                       capture_output=True, timeout=60, check=False)
