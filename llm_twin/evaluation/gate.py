"""The promotion gate: a pure function from scores and config to a decision (stage + reasons).

`production` only when the candidate beats the base on held-out perplexity and style similarity (and the
judge, when configured) and is not worse than the current production version beyond a tolerance; with
`min_attribution_gain` set, its authorship attribution must beat the base's by that much (with
`attribution_significant`, the lower end of the paired bootstrap interval must); with human-in-the-loop a
passing candidate goes to `staging` for a person to promote.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from llm_twin.config.evaluation import GateConfig
from llm_twin.evaluation.schemas import AttributionSummary, ModelScores


class PromotionDecision(BaseModel):
    passed: bool
    stage: Literal["production", "staging"] | None  # None: leave the version's stage unchanged
    reasons: list[str] = Field(default_factory=list)


def decide(
    candidate: ModelScores,
    base: ModelScores | None,
    production: ModelScores | None,
    cfg: GateConfig,
    attribution: AttributionSummary | None = None,
) -> PromotionDecision:
    reasons: list[str] = []
    ok = True
    if base is not None:
        limit = cfg.max_perplexity_ratio * base.perplexity
        if candidate.perplexity <= limit:
            reasons.append(f"perplexity {candidate.perplexity:.2f} ≤ {limit:.2f} ({cfg.max_perplexity_ratio} × base {base.perplexity:.2f})")
        else:
            ok = False
            reasons.append(f"FAIL perplexity {candidate.perplexity:.2f} > {limit:.2f} ({cfg.max_perplexity_ratio} × base {base.perplexity:.2f})")
        gain = candidate.style_similarity - base.style_similarity
        if gain >= cfg.min_style_gain:
            reasons.append(f"style similarity {candidate.style_similarity:.3f} vs base {base.style_similarity:.3f} (gain {gain:+.3f} ≥ {cfg.min_style_gain})")
        else:
            ok = False
            reasons.append(f"FAIL style similarity gain {gain:+.3f} < {cfg.min_style_gain} (base {base.style_similarity:.3f})")
    else:
        reasons.append("no base scores: base comparison skipped")
    if production is not None:
        tol = cfg.production_tolerance
        if candidate.perplexity > production.perplexity * (1 + tol):
            ok = False
            reasons.append(f"FAIL perplexity {candidate.perplexity:.2f} worse than production {production.perplexity:.2f} (+{tol:.0%} allowed)")
        else:
            reasons.append(f"perplexity within {tol:.0%} of production {production.perplexity:.2f} or better")
        if candidate.style_similarity < production.style_similarity * (1 - tol):
            ok = False
            reasons.append(f"FAIL style similarity {candidate.style_similarity:.3f} below production {production.style_similarity:.3f} (−{tol:.0%} allowed)")
        else:
            reasons.append(f"style similarity within {tol:.0%} of production {production.style_similarity:.3f} or better")
    if cfg.min_judge_score is not None:
        score = candidate.judge_score
        if score is None or math.isnan(score):
            ok = False
            reasons.append("FAIL judge score required by the gate but not available (enable evaluation.judge)")
        elif score < cfg.min_judge_score:
            ok = False
            reasons.append(f"FAIL judge score {score:.2f} < {cfg.min_judge_score}")
        else:
            reasons.append(f"judge score {score:.2f} ≥ {cfg.min_judge_score}")
    if cfg.min_attribution_gain is not None:
        ok = _attribution_gate(candidate, base, attribution, cfg, reasons) and ok
    stage: Literal["production", "staging"] | None = None
    if ok and cfg.promote:
        stage = "staging" if cfg.human_in_the_loop else "production"
    return PromotionDecision(passed=ok, stage=stage, reasons=reasons)


def _attribution_gate(candidate: ModelScores, base: ModelScores | None, summary: AttributionSummary | None,
                      cfg: GateConfig, reasons: list[str]) -> bool:
    need = cfg.min_attribution_gain or 0.0
    if base is None or candidate.attribution is None or base.attribution is None:
        reasons.append("FAIL attribution gain required by the gate but not measured "
                       "(enable evaluation.attribution and compare_base)")
        return False
    gain = candidate.attribution - base.attribution
    if cfg.attribution_significant:
        if summary is None or summary.gain_low is None:
            reasons.append("FAIL attribution gain interval required by the gate but not available")
            return False
        low = summary.gain_low
        if low > need:  # the whole interval above the required gain
            reasons.append(f"attribution {candidate.attribution:.2f} vs base {base.attribution:.2f}: gain {gain:+.2f}, "
                           f"{summary.confidence:.0%} interval [{low:+.2f}, {summary.gain_high:+.2f}] clears {need}")
            return True
        reasons.append(f"FAIL attribution gain {gain:+.2f}: {summary.confidence:.0%} interval "
                       f"[{low:+.2f}, {summary.gain_high:+.2f}] does not clear {need}")
        return False
    if gain >= need:
        reasons.append(f"attribution {candidate.attribution:.2f} vs base {base.attribution:.2f} (gain {gain:+.2f} ≥ {need})")
        return True
    reasons.append(f"FAIL attribution gain {gain:+.2f} < {need} (base {base.attribution:.2f})")
    return False
