"""`python -m llm_twin.training.versions [name] [--json]`: the model's versions with stage and headline metrics.

ZenML's `zenml model version list --model=llm_twin` lists versions and stages; this adds the metrics the
promotion gate decided on (logged on each version as `evaluation`, `evaluation_vs` and `promotion`).
`--json` prints one object per version: `version`, `stage`, `gate`, and `base` / `twin` objects with
`perplexity`, `style_similarity`, `attribution` (+ its interval), `invented_link_rate`,
`marker_leak_rate` and `distinct_2` (null where a version was evaluated before a metric existed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

METRICS = ("perplexity", "style_similarity", "attribution", "attribution_low", "attribution_high",
           "invented_link_rate", "marker_leak_rate", "distinct_2")


def _metrics(scores: Any) -> dict[str, float | None]:
    scores = scores if isinstance(scores, dict) else {}
    out: dict[str, float | None] = {}
    for key in METRICS:
        value = scores.get(key)
        out[key] = float(value) if isinstance(value, (int, float)) else None
    return out


def records(name: str = "llm_twin") -> list[dict[str, Any]]:
    """One dict per version, newest first: version, stage, gate, base and twin metrics."""
    from zenml.client import Client

    versions = Client().list_model_versions(model=name, size=100, sort_by="desc:number").items
    out = []
    for version in versions:
        metadata: dict[str, Any] = dict(version.run_metadata)
        vs = metadata.get("evaluation_vs") or {}
        promotion = metadata.get("promotion") or {}
        out.append({
            "version": str(version.number),
            "name": str(version.name),
            "stage": str(version.stage) if version.stage else None,
            "gate": "passed" if promotion.get("passed") else ("failed" if promotion else None),
            "base": _metrics(vs.get("base")),
            "twin": _metrics(metadata.get("evaluation") or vs.get("candidate")),
        })
    return out


def _fmt(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def rows(name: str = "llm_twin") -> list[dict[str, str]]:
    """The table's rows: "base → twin" per headline metric."""
    out = []
    for r in records(name):
        base, twin = r["base"], r["twin"]
        out.append({
            "version": r["version"],
            "stage": r["stage"] or "-",
            **{key: f"{_fmt(base[key])} → {_fmt(twin[key])}" for key in ("perplexity", "style_similarity", "attribution")},
            "links": _fmt(twin["invented_link_rate"]),
            "markers": _fmt(twin["marker_leak_rate"]),
            "gate": "passed" if r["gate"] == "passed" else "-",
        })
    return out


def main(argv: list[str] | None = None) -> int:
    from llm_twin.zenml_env import configure_zenml_env

    configure_zenml_env()
    parser = argparse.ArgumentParser(prog="python -m llm_twin.training.versions")
    parser.add_argument("name", nargs="?", default="llm_twin")
    parser.add_argument("--json", action="store_true", help="a JSON array, one object per version")
    args = parser.parse_args(argv)
    try:
        found = records(args.name)
    except KeyError:
        found = []
    if args.json:
        print(json.dumps(found, indent=2))
        if not found:
            print(f"error: no model {args.name!r} in the Model Control Plane yet", file=sys.stderr)
        return 0 if found else 1
    if not found:
        print(f"error: no model {args.name!r} in the Model Control Plane yet: run `python run.py pipeline=train`",
              file=sys.stderr)
        return 1
    print(f"{'version':<8} {'stage':<11} {'perplexity base → twin':<24} {'style base → twin':<20} "
          f"{'attribution base → twin':<24} {'links':<6} {'markers':<8} gate")
    for row in rows(args.name):
        print(f"{row['version']:<8} {row['stage']:<11} {row['perplexity']:<24} {row['style_similarity']:<20} "
              f"{row['attribution']:<24} {row['links']:<6} {row['markers']:<8} {row['gate']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
