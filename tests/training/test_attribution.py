"""Authorship attribution (char n-grams + function words), bootstrap intervals, answer hygiene metrics and
the attribution gate, on the bundled sample authors' real texts where it matters."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from llm_twin.config import EvaluationConfig, load_group
from llm_twin.evaluation.answer_metrics import answer_metrics, distinct_n
from llm_twin.evaluation.attribution import AttributionModel, bootstrap_gain, bootstrap_share, windows
from llm_twin.evaluation.gate import decide
from llm_twin.evaluation.schemas import AttributionSummary, ModelScores
from llm_twin.paths import PROJECT_ROOT

GATE = load_group("evaluation", schema=EvaluationConfig).gate

SHARES = {
    "Maya Lindqvist": PROJECT_ROOT / "data/sample_author/exports/linkedin/Shares.csv",
    "Priya Raman": PROJECT_ROOT / "data/authors/priya_raman/exports/linkedin/Shares.csv",
    "Tomas Okafor": PROJECT_ROOT / "data/authors/tomas_okafor/exports/linkedin/Shares.csv",
}


def _posts(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [r["ShareCommentary"] for r in csv.DictReader(f) if r["ShareCommentary"].strip()]


def test_windows_keep_line_breaks_and_length() -> None:
    text = "one two three\nfour five six seven\n\neight nine ten eleven twelve"
    pieces = windows(text, max_words=5, min_words=2)
    assert pieces[0] == "one two three\nfour five" and all(len(p.split()) <= 5 for p in pieces)
    assert windows("short", 80) == ["short"]


def test_attribution_separates_the_three_sample_authors_on_unseen_posts() -> None:
    """Fitted on two thirds of each author's LinkedIn posts, it attributes the held-out third: topic
    overlaps by design, so this is the voice being recognised."""
    train, test = {}, []
    for name, path in SHARES.items():
        posts = _posts(path)
        cut = len(posts) * 2 // 3
        train[name] = posts[:cut]
        test += [(name, p) for p in posts[cut:]]
    model = AttributionModel(window_words=80).fit(train)
    assert model.authors == sorted(SHARES)
    predicted = model.predict([t for _, t in test])
    accuracy = sum(p == a for p, (a, _) in zip(predicted, test)) / len(test)
    assert accuracy >= 0.8, list(zip(predicted, [a for a, _ in test]))
    assert model.predict(["", "  "]) == ["", ""]  # an empty answer is attributed to no one


def test_attribution_needs_two_authors() -> None:
    with pytest.raises(ValueError, match="reference_authors"):
        AttributionModel().fit({"Maya Lindqvist": ["some text " * 20], "Nobody": []})


def test_bootstrap_intervals() -> None:
    share = bootstrap_share([True] * 15 + [False] * 5, n_boot=2000, seed=1)
    assert share.value == pytest.approx(0.75) and share.low < 0.75 < share.high
    assert 0.5 < share.low and share.high <= 0.95
    assert bootstrap_share([True] * 10).as_dict() == {"value": 1.0, "low": 1.0, "high": 1.0}
    gain = bootstrap_gain([True] * 16 + [False] * 4, [False] * 16 + [True] * 4, n_boot=2000, seed=1)
    assert gain.value == pytest.approx(0.6) and 0.0 < gain.low < 0.6 < gain.high
    flat = bootstrap_gain([True, False] * 10, [False, True] * 10, n_boot=2000, seed=1)
    assert flat.low < 0 < flat.high
    with pytest.raises(ValueError, match="same instructions"):
        bootstrap_gain([True], [True, False])


def test_answer_metrics_count_invented_links_markers_and_repetition() -> None:
    answers = [
        "See https://medium.com/@maya/real for the details.",            # a retrieved source: fine
        "More at https://example.com/made-up-post.",                      # invented
        "[6] (linkedin; https://www.linkedin.com/feed/update/urn:li:activity:1)\nCopied header.",  # marker + link
        "the same the same the same the same the same",                   # repetition
    ]
    sources = [["https://medium.com/@maya/real"], ["https://medium.com/@maya/real"], [], []]
    m = answer_metrics(answers, sources)
    assert m["invented_link_rate"] == pytest.approx(2 / 4)
    assert m["marker_leak_rate"] == pytest.approx(1 / 4)
    assert distinct_n("a b c d") == 1.0 and distinct_n(answers[3]) < 0.3
    assert answer_metrics([], [])["invented_link_rate"] == 0.0


def _scores(label: str, attribution: float | None) -> ModelScores:
    return ModelScores(label=label, perplexity=10.0 if label == "candidate" else 20.0, style_similarity=0.5,
                       attribution=attribution)


def test_gate_can_require_an_attribution_gain() -> None:
    base, good, flat = _scores("base", 0.2), _scores("candidate", 0.8), _scores("candidate", 0.25)
    assert decide(flat, base, None, GATE).passed  # not required by default
    need = GATE.model_copy(update={"min_attribution_gain": 0.1})
    assert decide(good, base, None, need).passed
    failed = decide(flat, base, None, need)
    assert not failed.passed and any(r.startswith("FAIL attribution") for r in failed.reasons)
    significant = need.model_copy(update={"attribution_significant": True})
    summary = AttributionSummary(target="Maya Lindqvist", authors=[], gain=0.6, gain_low=0.35, gain_high=0.8)
    assert decide(good, base, None, significant, summary).passed
    wide = summary.model_copy(update={"gain_low": 0.05})
    assert not decide(good, base, None, significant, wide).passed
    unmeasured = decide(_scores("candidate", None), base, None, need)
    assert not unmeasured.passed and "not measured" in " ".join(unmeasured.reasons)
