"""Choose the served quantization by measurement: quality first, then speed, then size.

Every candidate is quantized from the F32 export, scored on the same held-out token windows as the
PyTorch merged model, and timed. Candidates whose perplexity exceeds the reference by more than the
tolerance are rejected whatever their speed (torch.ao dynamic int8 was 3x faster and ruined a twin);
among the rest the fastest wins, and within `speed_margin` of the fastest the smallest file wins.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel

from llm_twin.inference.measure import gguf_speed
from llm_twin.inference.quantize import quantize_gguf
from llm_twin.models.perplexity import gguf_perplexity

log = logging.getLogger(__name__)


class Candidate(BaseModel):
    qtype: str
    path: str
    size_mb: float
    perplexity: float
    perplexity_ratio: float
    tokens_per_s: float
    accepted: bool
    reason: str = ""


class SelectionError(RuntimeError):
    """No quantization kept quality within tolerance."""


def evaluate_candidates(
    f32_gguf: Path,
    out_dir: Path,
    qtypes: list[str],
    windows: list[list[int]],
    reference_ppl: float,
    tolerance: float,
    new_tokens: int = 48,
) -> list[Candidate]:
    out: list[Candidate] = []
    for qtype in qtypes:
        path = quantize_gguf(f32_gguf, out_dir / f"twin-{qtype.lower()}.gguf", qtype)
        ppl = gguf_perplexity(path, windows).perplexity
        speed = gguf_speed(path, new_tokens).tokens_per_s
        ratio = ppl / reference_ppl
        ok = ratio <= 1 + tolerance
        out.append(
            Candidate(
                qtype=qtype, path=str(path), size_mb=round(path.stat().st_size / 1e6, 1),
                perplexity=round(ppl, 4), perplexity_ratio=round(ratio, 4), tokens_per_s=round(speed, 1),
                accepted=ok, reason="" if ok else f"perplexity +{(ratio - 1) * 100:.1f}% > {tolerance * 100:.1f}%",
            )
        )
        log.info("candidate %s: ppl %.3f (x%.3f), %.0f tok/s, %.0f MB%s", qtype, ppl, ratio, speed,
                 out[-1].size_mb, "" if ok else " REJECTED")
    return out


def choose(candidates: list[Candidate], speed_margin: float = 0.1) -> Candidate:
    accepted = [c for c in candidates if c.accepted]
    if not accepted:
        detail = "; ".join(f"{c.qtype}: {c.reason}" for c in candidates)
        raise SelectionError(f"no quantization kept perplexity within tolerance ({detail})")
    fastest = max(c.tokens_per_s for c in accepted)
    near = [c for c in accepted if c.tokens_per_s >= fastest * (1 - speed_margin)]
    return min(near, key=lambda c: (c.size_mb, -c.tokens_per_s))
