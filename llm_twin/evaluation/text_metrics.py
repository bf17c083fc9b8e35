"""ROUGE-L and BLEU through the `evaluate` library, from the metric modules kept in this package."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

METRICS_DIR = Path(__file__).resolve().parent / "metrics"


@functools.lru_cache(maxsize=4)
def load_metric(name: str) -> Any:
    """`evaluate.load` on a local module folder (never the hub): name is `twin_rouge` or `twin_bleu`."""
    import evaluate

    path = METRICS_DIR / name
    if not (path / f"{name}.py").is_file():
        raise FileNotFoundError(f"metric module {path}/{name}.py is missing")
    return evaluate.load(str(path))


def rouge_l(predictions: list[str], references: list[str]) -> float:
    return float(load_metric("twin_rouge").compute(predictions=predictions, references=references)["rougeL"])


def bleu(predictions: list[str], references: list[str]) -> float:
    return float(load_metric("twin_bleu").compute(predictions=predictions, references=references)["bleu"])
