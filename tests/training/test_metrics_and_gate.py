"""Project-local evaluate metric modules, stylometry and the promotion gate."""

from __future__ import annotations

import pytest

from llm_twin.config import EmbeddingConfig, EvaluationConfig, load_group
from llm_twin.evaluation.gate import decide
from llm_twin.evaluation.schemas import ModelScores
from llm_twin.evaluation.style import profile, style_scores, stylometry_similarity
from llm_twin.evaluation.text_metrics import bleu, load_metric, rouge_l

GATE = load_group("evaluation", schema=EvaluationConfig).gate
EMBEDDING = load_group("embedding", schema=EmbeddingConfig)


def GateConfig(**changes: object):
    return GATE.model_copy(update=changes)


def test_rouge_and_bleu_load_from_the_project() -> None:
    assert rouge_l(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(1.0)
    assert rouge_l(["hello world"], ["hello there world"]) == pytest.approx(0.8)
    assert bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(1.0)
    assert 0.0 < bleu(["the cat sat on a mat"], ["the cat sat on the mat"]) < 1.0
    assert bleu(["zzz"], ["the cat sat on the mat"]) < 0.2
    result = load_metric("twin_bleu").compute(predictions=["a b"], references=["a b c d"])
    assert result["brevity_penalty"] < 1.0 and result["reference_length"] == 4


def test_style_prefers_the_authors_voice() -> None:
    author = ["Hot take: plumbing beats models. I ship small. #MLOps", "Here's the thing: I measure everything! #LLM"]
    same = ["Hot take: I measure the plumbing first. #RAG"]
    other = ["The quarterly financial statements of the corporation indicate a consolidated revenue increase"]
    prof = profile(author)
    assert stylometry_similarity(same, prof) > stylometry_similarity(other, prof)
    s_same, s_other = style_scores(same, author, author[:1], EMBEDDING), style_scores(other, author, author[:1], EMBEDDING)
    assert s_same["style_similarity"] > s_other["style_similarity"]
    assert s_same["embedding_similarity"] > s_other["embedding_similarity"]


def _scores(label: str, ppl: float, style: float) -> ModelScores:
    return ModelScores(label=label, perplexity=ppl, style_similarity=style)


def test_gate_promotes_only_a_better_candidate() -> None:
    base = _scores("base", 20.0, 0.40)
    good = decide(_scores("candidate", 16.0, 0.50), base, None, GateConfig())
    assert good.passed and good.stage == "production"
    worse_ppl = decide(_scores("candidate", 19.9, 0.50), base, None, GateConfig())
    assert not worse_ppl.passed and worse_ppl.stage is None and any("FAIL perplexity" in r for r in worse_ppl.reasons)
    worse_style = decide(_scores("candidate", 16.0, 0.30), base, None, GateConfig())
    assert not worse_style.passed and any("style" in r for r in worse_style.reasons if r.startswith("FAIL"))


def test_gate_against_production_and_human_in_the_loop() -> None:
    base, prod = _scores("base", 20.0, 0.40), _scores("production", 15.0, 0.55)
    behind = decide(_scores("candidate", 16.0, 0.50), base, prod, GateConfig())
    assert not behind.passed
    close = decide(_scores("candidate", 15.2, 0.545), base, prod, GateConfig(production_tolerance=0.02))
    assert close.passed and close.stage == "production"
    staged = decide(_scores("candidate", 15.0, 0.6), base, prod, GateConfig(human_in_the_loop=True))
    assert staged.passed and staged.stage == "staging"
    report_only = decide(_scores("candidate", 15.0, 0.6), base, prod, GateConfig(promote=False))
    assert report_only.passed and report_only.stage is None
    needs_judge = decide(_scores("candidate", 15.0, 0.6), base, None, GateConfig(min_judge_score=3.0))
    assert not needs_judge.passed
