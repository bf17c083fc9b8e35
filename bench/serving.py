"""Benchmark the served twin against the unquantized merged model, in the same run.

1. Model: the merged twin (`--model-dir`, else the `production` version of `llm_twin`, else the base
   model) in PyTorch fp32 vs the served GGUF (exported + quantized by measurement, or `--gguf`) in
   llama.cpp: generation tokens/s and peak memory (each in a fresh subprocess), held-out perplexity on
   the author's test texts (the same token windows for both).
2. Service: the bento built from that GGUF and a retrieval index, under a real `bentoml serve`:
   `/generate` and `/retrieve` latency p50/p95 with one client and with 4 concurrent clients (their ratio
   is the cost of concurrency), and the service's own decoding speed (`timings.tokens_per_s` of its
   answers) against bare llama.cpp decoding the very same prompt on the same GGUF in the same run
   (`service_ratio`: what the service's loop, streaming and locking cost).

The last line printed is a JSON object with `speedup`, `memory_ratio`, `perplexity_ratio` (served ÷
unquantized), `service_ratio` and the latency figures. Targets: perplexity within 3 %, >= 4x tokens/s,
<= 35 % memory, service_ratio >= 0.9. `--quick` runs the same path smaller (CI runs it).

    .venv/bin/python bench/serving.py [--quick] [--model-dir DIR] [--version production] [--requests 12]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llm_twin.config import (
    EmbeddingConfig,
    ModelConfig,
    MonitoringConfig,
    RetrievalConfig,
    ServingConfig,
    load_group,
)
from llm_twin.inference.export import build_served_gguf, read_report
from llm_twin.inference.measure import measure_in_subprocess

INSTRUCTIONS = [
    "Write a short LinkedIn post about vector databases.",
    "Explain retrieval-augmented generation in two sentences.",
    "Write a post about why you measure quantized models before shipping them.",
    "What did you learn about change data capture and streaming pipelines?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def load_texts() -> tuple[list[str], str]:
    from llm_twin.inference.deploy import dataset_heldout_texts
    from llm_twin.inference.heldout import bundled_texts

    texts = dataset_heldout_texts()
    return (texts, "instruct_dataset_test") if texts else (bundled_texts(), "bundled")


def resolve(args) -> tuple[Path, str]:
    if args.model_dir:
        return Path(args.model_dir), "explicit"
    from llm_twin.inference.deploy import resolve_model
    from llm_twin.zenml_env import configure_zenml_env

    configure_zenml_env()
    model = resolve_model(args.version, load_group("model", schema=ModelConfig))
    return Path(model.path), model.version


def bench_index(path: Path) -> Path:
    """A retrieval index for the service: a copy of the project's local Qdrant if it has embedded
    chunks, else the bundled held-out paragraphs indexed as one author's articles."""
    import shutil

    from qdrant_client import QdrantClient

    from llm_twin.config import EmbeddingConfig
    from llm_twin.domain.documents import DataType
    from llm_twin.domain.features import ChunkPayload
    from llm_twin.embedding import get_embedder
    from llm_twin.inference.heldout import bundled_texts
    from llm_twin.paths import twin_home
    from llm_twin.rag.indexing import index_chunks

    project = twin_home() / "qdrant"
    if (project / "collection").is_dir() and any((project / "collection").glob("embedded_*")):
        shutil.copytree(project, path, ignore=shutil.ignore_patterns(".lock"))
        return path
    client = QdrantClient(path=str(path))
    chunks = [ChunkPayload(document_id=f"bench-{i}", chunk_index=0, chunk_count=1, data_type=DataType.ARTICLE,
                           author_id="bench", author_full_name="Bench Author", platform="medium",
                           link=f"https://example.com/bench/{i}", text=t, content_hash=str(i),
                           embedding_model_id="sentence-transformers/all-MiniLM-L6-v2")
              for i, t in enumerate(bundled_texts())]
    index_chunks(client, chunks, get_embedder(load_group("embedding", schema=EmbeddingConfig)))
    client.close()
    return path


def call(url: str, route: str, i: int, max_new_tokens: int) -> tuple[float, dict]:
    import requests

    body: dict[str, Any] = ({"instruction": INSTRUCTIONS[i % len(INSTRUCTIONS)], "max_new_tokens": max_new_tokens,
             "temperature": 0.0} if route == "generate" else {"query": INSTRUCTIONS[i % len(INSTRUCTIONS)]})
    t0 = time.perf_counter()
    r = requests.post(f"{url}/{route}", json=body, timeout=300)
    r.raise_for_status()
    return time.perf_counter() - t0, r.json()


def load_test(url: str, n: int, clients: int, max_new_tokens: int) -> dict[str, float]:
    """p50/p95 latency and requests/s of `/retrieve` and `/generate` with `clients` concurrent clients."""
    out: dict[str, float] = {}
    for route in ("retrieve", "generate"):
        call(url, route, 0, max_new_tokens)  # warm-up
        with ThreadPoolExecutor(clients) as pool:
            t0 = time.perf_counter()
            lat = [t for t, _ in pool.map(call, [url] * n, [route] * n, range(n), [max_new_tokens] * n)]
            wall = time.perf_counter() - t0
        out[f"{route}_p50_s"] = round(percentile(lat, 0.5), 3)
        out[f"{route}_p95_s"] = round(percentile(lat, 0.95), 3)
        out[f"{route}_rps"] = round(n / wall, 2)
    return out


def service_vs_bare(url: str, gguf: Path, n: int, max_new_tokens: int) -> dict[str, float]:
    """The service's own decoding speed on its answers vs bare llama.cpp on each answer's exact prompt
    (read back from the service's traces), one request at a time so nothing else shares the cores."""
    import requests

    from llm_twin.inference.measure import decode_speed

    served, bare = [], []
    for i in range(n):
        _, answer = call(url, "generate", i, max_new_tokens)
        trace = next(t for t in requests.post(f"{url}/traces", json={"limit": 20}, timeout=60).json()
                     if t["id"] == answer["trace_id"])
        if answer["completion_tokens"] < 4:
            continue  # too short to time
        served.append(answer["timings"]["tokens_per_s"])
        bare.append(decode_speed(gguf, trace["prompt"], answer["completion_tokens"]).tokens_per_s)
    if not served:
        raise RuntimeError("no answer was long enough to time the service's decoding")
    service, raw = percentile(served, 0.5), percentile(bare, 0.5)
    return {"service_tokens_per_s": round(service, 1), "bare_tokens_per_s": round(raw, 1),
            "service_ratio": round(service / raw, 3), "service_ratio_answers": len(served)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", help="merged HF model folder (default: registry version, else base)")
    parser.add_argument("--version", default="production")
    parser.add_argument("--gguf", help="an already exported served model folder (with served_model.json)")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=12, help="requests per endpoint in the load test")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--quick", action="store_true", help="the same path, smaller: one quantization candidate, "
                        "few tokens and requests (CI runs it so a broken benchmark turns CI red)")
    args = parser.parse_args()
    if args.quick:
        args.new_tokens, args.requests = min(args.new_tokens, 24), min(args.requests, 4)

    from llm_twin.models.base import base_gguf
    from llm_twin.paths import state_dir

    work = Path(tempfile.mkdtemp(prefix="bench-serving-", dir=state_dir("bench")))
    model_dir, version = resolve(args)
    texts, source = load_texts()
    model_cfg = load_group("model", schema=ModelConfig)
    serving = load_group("serving", schema=ServingConfig)
    quantization = serving.quantization
    if args.quick:
        quantization = quantization.model_copy(update={"candidates": ["Q8_0"], "max_windows": 2})
    print(f"model: {model_dir} ({version}); held-out texts: {len(texts)} ({source})", flush=True)

    if args.gguf:
        report = read_report(Path(args.gguf))
    else:
        report = build_served_gguf(model_dir, base_gguf(model_cfg),
                                   work / "served", texts, quantization, model_version=version,
                                   heldout_source=source)
    served = Path(report.gguf_path)
    print(f"served: {report.qtype} {served} ({report.size_mb} MB); candidates: "
          + ", ".join(f"{c.qtype} ppl x{c.perplexity_ratio} {c.tokens_per_s} tok/s {'ok' if c.accepted else 'rejected'}"
                      for c in report.candidates), flush=True)

    torch_m = measure_in_subprocess("torch", model_dir, args.new_tokens)
    gguf_m = measure_in_subprocess("gguf", served, args.new_tokens)
    if report.served_perplexity is None or report.pytorch_perplexity is None:
        raise RuntimeError("the served model was not measured (a bitsandbytes backend?): nothing to compare")
    result: dict[str, Any] = {
        "model_version": version,
        "qtype": report.qtype,
        "heldout_source": source,
        "heldout_tokens": report.heldout_tokens,
        "pytorch_fp32_tokens_per_s": round(torch_m.tokens_per_s, 1),
        "served_tokens_per_s": round(gguf_m.tokens_per_s, 1),
        "pytorch_fp32_peak_mb": torch_m.peak_mb,
        "served_peak_mb": gguf_m.peak_mb,
        "pytorch_fp32_perplexity": report.pytorch_perplexity,
        "served_perplexity": report.served_perplexity,
        "speedup": round(gguf_m.tokens_per_s / torch_m.tokens_per_s, 2),
        "memory_ratio": round((gguf_m.peak_mb or 0.0) / (torch_m.peak_mb or 1.0), 3),
        "perplexity_ratio": round(report.served_perplexity / report.pytorch_perplexity, 4),
        "served_file_mb": report.size_mb,
    }
    print(f"tokens/s: PyTorch fp32 {result['pytorch_fp32_tokens_per_s']} vs served {result['served_tokens_per_s']} "
          f"(x{result['speedup']}); peak MB: {torch_m.peak_mb} vs {gguf_m.peak_mb} (x{result['memory_ratio']}); "
          f"perplexity: {report.pytorch_perplexity} vs {report.served_perplexity} (x{result['perplexity_ratio']})",
          flush=True)

    if not args.skip_service:
        from llm_twin.config import compose
        from llm_twin.connections import Connections
        from llm_twin.inference.bundle import write_bundle
        from llm_twin.inference.deploy import runtime_config
        from llm_twin.inference.serve_process import bentoml_serve, build_in_subprocess

        index = bench_index(work / "qdrant")
        cfg = compose(["monitoring.sinks=[memory]", "retrieval.default_author=null"])
        runtime = runtime_config(version, None, RetrievalConfig.of(cfg.retrieval), EmbeddingConfig.of(cfg.embedding),
                                 serving, MonitoringConfig.of(cfg.monitoring), Connections.of(cfg.infra))
        bundle = write_bundle(work / "bundle", served.parent, runtime, index)
        home = work / "bentoml"
        info = build_in_subprocess(bundle, home, "bench", ROOT)
        with bentoml_serve(info["bento_tag"], home) as url:
            single = load_test(url, args.requests, 1, args.new_tokens)
            concurrent = load_test(url, args.requests, args.clients, args.new_tokens)
            result.update(service_vs_bare(url, served, max(2, args.requests // 2), args.new_tokens))
        result.update({f"single_{k}": v for k, v in single.items()})
        result.update(concurrent)
        result["clients"] = args.clients
        result["concurrency_cost_p50"] = round(concurrent["generate_p50_s"] / single["generate_p50_s"], 2)
        print("latency (s, 1 client): " + ", ".join(f"{k}={v}" for k, v in single.items()), flush=True)
        print(f"latency (s, {args.clients} clients): " + ", ".join(f"{k}={v}" for k, v in concurrent.items()),
              flush=True)
        print(f"service decoding {result['service_tokens_per_s']} tokens/s vs bare llama.cpp "
              f"{result['bare_tokens_per_s']} (x{result['service_ratio']})", flush=True)

    targets = {"perplexity_ratio<=1.03": result["perplexity_ratio"] <= 1.03, "speedup>=4": result["speedup"] >= 4,
               "memory_ratio<=0.35": result["memory_ratio"] <= 0.35}
    if "service_ratio" in result:
        targets["service_ratio>=0.9"] = result["service_ratio"] >= 0.9
    result["targets_met"] = targets
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
