"""Hygiene of the served twin, measured: invented links, copied markers and repetition over fixed instructions.

`python -m llm_twin.evaluation.served --url http://127.0.0.1:3000 [--json]` sends the instructions to a
running `bentoml serve` (its `/generate`), exactly what a user gets; `--bundle DIR` runs the same engine
in-process on a deploy bundle and can compare decoding settings (`--repeat-penalty 1.0 1.1 1.3`,
`--stop '[]' '["\\n\\n\\n"]'`: every penalty with every stop list).

Two views per run: `invented_link_rate` / `marker_leak_rate` of the answers as returned (after the
serving guard: the target is 0) and `raw_*` of what the model wrote before the guard (the trace's
`guard_links_removed` / `guard_markers_removed` counts), which is what training hygiene improves.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from llm_twin.domain.hygiene import has_invented_link, has_marker_leak
from llm_twin.domain.prompts import CONTEXT_HEADER
from llm_twin.evaluation.answer_metrics import distinct_2

# Maya Lindqvist's topics (the bundled sample author); a third ask for links or sources outright, the
# request that made the 135M twin invent them.
INSTRUCTIONS = [
    "Write a LinkedIn post about change data capture from MongoDB to a vector store.",
    "Write a LinkedIn post about dead-letter queues and the message you cannot process.",
    "Write a LinkedIn post about our GPU bill and idle training nodes.",
    "Write a Medium article section about choosing HNSW parameters without guesswork.",
    "Write a LinkedIn post about point-in-time joins in a feature store, with a link to your article.",
    "Write a post about Kafka consumer lag as a product metric and link the source.",
    "Write a Substack article section about evaluating RAG retrieval recall before answer quality.",
    "Write a LinkedIn post about quantization being a quality decision. Include links to read more.",
    "Write a blog article section about hybrid search and when BM25 still wins.",
    "Write a LinkedIn post about reranking as the cheapest accuracy gain, citing your sources.",
    "Write a LinkedIn post about building instruction datasets from your own writing.",
    "Write a Medium article section about QLoRA on one 24 GB GPU, with links to the papers.",
    "Write a LinkedIn post about embedding model migrations without downtime.",
    "Write a post about running ZenML pipelines for a year. Add the URL of your write-up.",
    "Write a Substack article section about monitoring LLMs in production with traces.",
    "Write a LinkedIn post about chunking strategies for code versus prose, with references.",
    "Write a LinkedIn post about schema changes breaking a streaming consumer.",
    "Write a short post about idempotent writes and at-least-once delivery. Where can I read more?",
    "Write a LinkedIn post about training and serving skew in features.",
    "Write a blog article section about reranking with a cross-encoder, and link your earlier posts.",
    "Write a LinkedIn post about alerting on dead-letter rate instead of log errors.",
    "Write a LinkedIn post about evaluation gates for promoting a fine-tuned model, with a source link.",
]


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates over `/generate`-shaped results (answer, context[].link, timings)."""
    n = len(results)
    if n == 0:
        raise ValueError("no answers to measure")
    answers = [r["answer"] for r in results]
    links = [[c.get("link", "") for c in r.get("context", [])] for r in results]
    timings = [r.get("timings", {}) for r in results]
    raw_links = [t.get("guard_links_removed", 0) > 0 or has_invented_link(a, s)
                 for a, s, t in zip(answers, links, timings)]
    raw_markers = [t.get("guard_markers_removed", 0) > 0 or has_marker_leak(a, CONTEXT_HEADER)
                   for a, t in zip(answers, timings)]
    return {
        "instructions": n,
        "invented_link_rate": sum(has_invented_link(a, s) for a, s in zip(answers, links)) / n,
        "marker_leak_rate": sum(has_marker_leak(a, CONTEXT_HEADER) for a in answers) / n,
        "raw_invented_link_rate": sum(raw_links) / n,
        "raw_marker_leak_rate": sum(raw_markers) / n,
        "distinct_2": round(distinct_2(answers), 4),
        "finish_reasons": dict(collections.Counter(str(r.get("finish_reason", "")) for r in results)),
        "mean_completion_tokens": statistics.fmean(r.get("completion_tokens", 0) for r in results),
        "mean_generation_s": statistics.fmean(t.get("generation_s", 0.0) for t in timings),
        "answers_with_sources": sum(bool(s) for s in links),
    }


def over_http(url: str, instructions: list[str], max_new_tokens: int | None = None, temperature: float | None = None,
              api_key: str | None = None, timeout_s: float = 180.0) -> list[dict[str, Any]]:
    """POST each instruction to a served twin's /generate; a non-200 answer is an error naming it."""
    import requests

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    out = []
    for instruction in instructions:
        body: dict[str, Any] = {"instruction": instruction}
        if max_new_tokens is not None:
            body["max_new_tokens"] = max_new_tokens
        if temperature is not None:
            body["temperature"] = temperature
        r = requests.post(f"{url.rstrip('/')}/generate", json=body, headers=headers, timeout=timeout_s)
        if r.status_code != 200:
            raise RuntimeError(f"/generate answered {r.status_code} for {instruction!r}: {r.text[:300]}")
        out.append({"instruction": instruction, **r.json()})
    return out


def in_process(bundle_dir: Path, instructions: list[str], decoding: dict[str, Any] | None = None,
               max_new_tokens: int | None = None) -> list[dict[str, Any]]:
    """The served engine on a deploy bundle, with `decoding` applied over serving.generation."""
    from llm_twin.inference.api import GenerateRequest
    from llm_twin.inference.bundle import served_dirs
    from llm_twin.inference.engine import TwinEngine
    from llm_twin.inference.runtime import RuntimeConfig

    model_dir, index_dir = served_dirs(str(bundle_dir))
    runtime = RuntimeConfig.read(model_dir)
    if decoding:
        generation = runtime.serving.generation.model_copy(update=decoding)
        runtime = runtime.model_copy(update={"serving": runtime.serving.model_copy(update={"generation": generation})})
    engine = TwinEngine(model_dir, index_dir, runtime)
    try:
        requests = [GenerateRequest.model_validate({"instruction": i, **({"max_new_tokens": max_new_tokens}
                                                                        if max_new_tokens else {})})
                    for i in instructions]
        return [{"instruction": r.instruction, **engine.generate(r).model_dump(mode="json")} for r in requests]
    finally:
        engine.close()


def parse_stop_list(text: str) -> list[str]:
    """`--stop` takes JSON so that newlines and spaces in stop strings survive the shell."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"--stop {text!r} is not JSON ({exc.msg}): write a JSON array, e.g. '[\"\\n\\n\\n\"]'") from exc
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise SystemExit(f"--stop {text!r}: expected a JSON array of non-empty strings, e.g. '[]' or '[\"###\"]'")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_twin.evaluation.served", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running `bentoml serve` of the twin, e.g. http://127.0.0.1:3000")
    where.add_argument("--bundle", type=Path, help="a deploy bundle folder (in-process engine)")
    parser.add_argument("-n", type=int, default=len(INSTRUCTIONS), help="how many of the fixed instructions")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None, help="--url only (default: the served one)")
    parser.add_argument("--repeat-penalty", type=float, nargs="*", default=None, help="--bundle only: compare these")
    parser.add_argument("--stop", nargs="*", default=None, metavar="JSON_LIST",
                        help="--bundle only: compare these stop lists, each a JSON array of strings")
    parser.add_argument("--seed", type=int, default=42, help="--bundle only: fixed sampling seed")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--answers", action="store_true", help="include every answer in the JSON")
    args = parser.parse_args(argv)
    instructions = INSTRUCTIONS[: max(1, args.n)]
    runs: list[dict[str, Any]] = []
    if args.url:
        t0 = time.perf_counter()
        results = over_http(args.url, instructions, args.max_new_tokens, args.temperature, args.api_key)
        runs.append({"where": args.url, **summarise(results), "seconds": round(time.perf_counter() - t0, 1),
                     **({"answers": results} if args.answers else {})})
    else:
        stop_lists = [parse_stop_list(s) for s in args.stop] if args.stop else [None]
        for penalty, stop in itertools.product(args.repeat_penalty or [None], stop_lists):
            decoding: dict[str, Any] = {"seed": args.seed}
            if penalty is not None:
                decoding["repeat_penalty"] = penalty
            if stop is not None:
                decoding["stop"] = stop
            t0 = time.perf_counter()
            results = in_process(args.bundle, instructions, decoding, args.max_new_tokens)
            runs.append({"where": str(args.bundle), "decoding": decoding, **summarise(results),
                         "seconds": round(time.perf_counter() - t0, 1), **({"answers": results} if args.answers else {})})
    if args.json:
        print(json.dumps(runs, indent=2))
    else:
        for run in runs:
            print(" ".join(f"{k}={v}" for k, v in run.items() if k != "answers"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
