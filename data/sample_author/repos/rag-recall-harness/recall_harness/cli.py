"""`python -m recall_harness.cli questions.jsonl results.jsonl --k 5 --k 20`

questions.jsonl: {"id": ..., "type": "posts|articles|code", "relevant": [chunk ids]}
results.jsonl:   {"id": ..., "retrieved": [chunk ids in rank order]}
Prints recall@k per data type, because one blended number hides the type that is failing.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from recall_harness.metrics import recall_at_k


def load(path: Path) -> dict[str, dict]:
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {row["id"]: row for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("results", type=Path)
    parser.add_argument("--k", type=int, action="append", default=[])
    args = parser.parse_args()
    questions, results = load(args.questions), load(args.results)
    for k in args.k or [5]:
        per_type: dict[str, list[float]] = defaultdict(list)
        for qid, question in questions.items():
            retrieved = results.get(qid, {}).get("retrieved", [])
            per_type[question["type"]].append(recall_at_k(retrieved, set(question["relevant"]), k))
        for data_type, scores in sorted(per_type.items()):
            print(f"recall@{k:<3} {data_type:<10} {sum(scores) / len(scores):.3f}  (n={len(scores)})")


if __name__ == "__main__":
    main()
