"""`python -m llm_twin.training.versions [name]`: the model's versions with stage and headline metrics.

ZenML's `zenml model version list --model=llm_twin` lists versions and stages; this adds the metrics the
promotion gate decided on (logged on each version as `evaluation`, `evaluation_vs` and `promotion`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _metric(metadata: dict[str, Any], key: str, name: str) -> str:
    value = (metadata.get(key) or {}).get(name)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def rows(name: str = "llm_twin") -> list[dict[str, str]]:
    from zenml.client import Client

    versions = Client().list_model_versions(model=name, size=100, sort_by="desc:number").items
    out = []
    for version in versions:
        metadata: dict[str, Any] = dict(version.run_metadata)
        base = (metadata.get("evaluation_vs") or {}).get("base") or {}
        out.append({
            "version": str(version.number),
            "stage": str(version.stage or "-"),
            "perplexity": f"{_metric({'b': base}, 'b', 'perplexity')} → {_metric(metadata, 'evaluation', 'perplexity')}",
            "style": f"{_metric({'b': base}, 'b', 'style_similarity')} → {_metric(metadata, 'evaluation', 'style_similarity')}",
            "gate": "passed" if (metadata.get("promotion") or {}).get("passed") else "-",
        })
    return out


def main(argv: list[str] | None = None) -> int:
    from llm_twin.zenml_env import configure_zenml_env

    configure_zenml_env()
    parser = argparse.ArgumentParser(prog="python -m llm_twin.training.versions")
    parser.add_argument("name", nargs="?", default="llm_twin")
    args = parser.parse_args(argv)
    try:
        table = rows(args.name)
    except KeyError:
        table = []
    if not table:
        print(f"error: no model {args.name!r} in the Model Control Plane yet: run `python run.py pipeline=train`",
              file=sys.stderr)
        return 1
    print(f"{'version':<8} {'stage':<11} {'perplexity base → twin':<24} {'style base → twin':<20} gate")
    for row in table:
        print(f"{row['version']:<8} {row['stage']:<11} {row['perplexity']:<24} {row['style']:<20} {row['gate']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
