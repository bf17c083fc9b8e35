"""Every benchmark's quick mode runs the real path and prints its JSON figures, so a broken benchmark turns
CI red. The figures themselves are not asserted (a shared CI machine is no place for timings); the README
records full runs on an idle machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_twin.infra.processes import free_port
from llm_twin.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _isolated_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "COMET_"))}
    env.update(LLM_TWIN_HOME=str(tmp_path / "twin"), PYTHONUNBUFFERED="1")
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 1200) -> dict:
    result = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_serving_benchmark_quick(tmp_path: Path) -> None:
    figures = _run(["bench/serving.py", "--quick"], _isolated_env(tmp_path))
    for key in ("speedup", "memory_ratio", "perplexity_ratio", "service_ratio", "service_tokens_per_s",
                "bare_tokens_per_s", "single_generate_p50_s", "generate_p50_s", "concurrency_cost_p50"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert not list((tmp_path / "twin" / "bench").iterdir()), "the benchmark leaves nothing behind"


def test_train_benchmark_quick(tmp_path: Path) -> None:
    """etl + features into a temporary warehouse and Qdrant, one step of the real SFT path, the bare peft
    loop on the same batch and the matmul roofline."""
    figures = _run(["bench/train.py", "--quick"], _isolated_env(tmp_path))
    for key in ("tokens_per_s", "bare_tokens_per_s", "roofline_tokens_per_s", "roofline_ratio", "bare_ratio",
                "matmul_gflops", "trained_tokens"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert figures["documents"] > 0 and figures["train_examples"] > 0
    assert figures["base_params"] > 100_000_000  # SmolLM2-135M, the packaged base
    assert not list((tmp_path / "twin" / "bench").iterdir()), "the benchmark leaves nothing behind"


def test_ingest_benchmark_quick(tmp_path: Path, rabbitmq_url: str) -> None:
    env = _isolated_env(tmp_path)
    ports = [f"infra.mongo_port={free_port()}", f"infra.kafka_port={free_port()}"]
    try:
        figures = _run(["bench/ingest.py", "--quick", *ports], env)
        import pymongo

        with pymongo.MongoClient(f"mongodb://127.0.0.1:{ports[0].split('=')[1]}", serverSelectionTimeoutMS=5000) as client:
            leftovers = [name for name in client.list_database_names() if name.startswith("bench_")]
        assert leftovers == [], "the benchmark removes the database it wrote"
    finally:
        subprocess.run([sys.executable, "-m", "llm_twin.infra", "stop", *ports], cwd=PROJECT_ROOT, env=env,
                       capture_output=True, timeout=120, check=False)
    for key in ("throughput_ratio", "chunks_per_s", "encode_chunks_per_s", "latency_p50_s", "latency_p95_s"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    assert figures["documents"] == 40
