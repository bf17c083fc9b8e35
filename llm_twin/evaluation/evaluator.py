"""Score base, candidate and (when there is one) current production on the same held-out set.

Each model: answer-only perplexity on all held-out samples; greedy generations for up to `max_samples`
held-out prompts; ROUGE-L and BLEU against the author's real text; style similarity to the author's
training texts; authorship attribution (a stylometric classifier fitted on the training texts of every
author in the warehouse: the share of generations attributed to the target author, bootstrap interval);
answer hygiene (invented links, copied context markers) and repetition (distinct-2); optionally an LLM
judge. One model is in memory at a time.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.evaluation import EvaluationConfig
from llm_twin.domain.datasets import InstructDataset, InstructSample
from llm_twin.evaluation.answer_metrics import answer_metrics
from llm_twin.evaluation.attribution import AttributionModel, bootstrap_gain
from llm_twin.evaluation.schemas import AttributionSummary, EvaluationReport, ModelScores
from llm_twin.evaluation.style import style_scores
from llm_twin.evaluation.text_metrics import bleu, rouge_l
from llm_twin.models.generation import GreedyDecoding, generate
from llm_twin.models.loading import load_causal_lm
from llm_twin.models.perplexity import answer_perplexity
from llm_twin.models.threads import configure_torch_threads

log = logging.getLogger(__name__)


def held_out(dataset: InstructDataset, cfg: EvaluationConfig) -> list[InstructSample]:
    samples = [s for s in dataset.test if cfg.include_augmented or s.kind == "plain"]
    if not samples:
        raise ValueError("the dataset has no held-out (test) samples to evaluate on")
    return samples


def fit_attribution(dataset: InstructDataset, reference_texts: dict[str, list[str]], cfg: EvaluationConfig,
                    target: str) -> AttributionModel:
    """Fit on the target's training answers (never the held-out ones) and the reference authors' texts."""
    a = cfg.attribution
    texts = {name: list(t) for name, t in reference_texts.items() if name != target}
    texts[target] = [s.answer for s in dataset.train]
    model = AttributionModel(ngram_range=(a.ngram_range[0], a.ngram_range[1]), window_words=a.window_words,
                             max_features=a.max_features, c=a.c, seed=a.seed)
    model.fit(texts)
    small = [n for n, k in model.train_counts.items() if k < a.min_texts and n != target]
    if small:  # too little text to learn a voice from: refit without them
        model = AttributionModel(ngram_range=model.ngram_range, window_words=a.window_words,
                                 max_features=a.max_features, c=a.c, seed=a.seed)
        model.fit({n: t for n, t in texts.items() if n not in small})
    log.info("attribution model: %s", model.train_counts)
    return model


def score_model(
    label: str,
    model_dir: Path | str,
    dataset: InstructDataset,
    cfg: EvaluationConfig,
    embedding: EmbeddingConfig,
    dtype: str = "float32",
    version: str | None = None,
    max_length: int = 2048,
    attribution: AttributionModel | None = None,
    target: str = "",
) -> ModelScores:
    configure_torch_threads(cfg.torch_threads)  # re-checked per model: the machine's load changes
    test = held_out(dataset, cfg)
    gen_samples = test[: cfg.max_samples]
    model, tok = load_causal_lm(model_dir, dtype)
    ppl = answer_perplexity(model, tok, test, max_length=max_length)
    started = time.perf_counter()
    generations = generate(
        model, tok, [s.prompt_messages() for s in gen_samples],
        GreedyDecoding(max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size),
    )
    elapsed = time.perf_counter() - started
    n_tokens = sum(len(tok(g, add_special_tokens=False)["input_ids"]) for g in generations)
    del model
    gc.collect()
    references = [s.answer for s in gen_samples]
    author_texts = [s.answer for s in dataset.train] or references
    style = style_scores(generations, author_texts, references, embedding)
    judge = None
    if cfg.judge.enabled:
        from llm_twin.connections import llm_client
        from llm_twin.evaluation.judge import judge_scores

        judge = judge_scores(llm_client(cfg.judge.llm), [s.instruction for s in gen_samples], generations, references)
    attributed: list[str] = [""] * len(generations)
    share = None
    if attribution is not None:
        a = cfg.attribution
        share, attributed = attribution.share(generations, target, a.bootstrap, a.confidence, a.seed)
    hygiene = answer_metrics(generations, [s.sources for s in gen_samples])
    scores = ModelScores(
        label=label,
        model_dir=str(model_dir),
        version=version,
        perplexity=ppl,
        rouge_l=rouge_l(generations, references),
        bleu=bleu(generations, references),
        judge_score=judge,
        tokens_per_s=n_tokens / elapsed if elapsed > 0 else 0.0,
        attribution=share.value if share else None,
        attribution_low=share.low if share else None,
        attribution_high=share.high if share else None,
        samples=[
            {"id": s.id, "instruction": s.instruction, "generated": g, "reference": s.answer, "attributed_to": who}
            for s, g, who in zip(gen_samples, generations, attributed)
        ],
        **hygiene,
        **style,
    )
    log.info("%s: %s", label, scores.metrics())
    return scores


def evaluate_models(
    dataset: InstructDataset,
    candidate_dir: Path | str,
    cfg: EvaluationConfig,
    embedding: EmbeddingConfig,
    base_dir: Path | str | None = None,
    production_dir: Path | str | None = None,
    dtype: str = "float32",
    candidate_version: str | None = None,
    production_version: str | None = None,
    max_length: int = 2048,
    reference_texts: dict[str, list[str]] | None = None,
    target: str | None = None,
) -> EvaluationReport:
    """`reference_texts`: other authors' texts (full name → texts) for attribution; `target`: the twin's
    author (full name) as a key of the attribution model."""
    started = time.perf_counter()
    target = target or "target"
    attribution = summary = None
    if cfg.attribution.enabled:
        if not reference_texts:
            raise ValueError(
                "evaluation.attribution is enabled but no reference author texts were given: list authors in "
                "evaluation.attribution.reference_authors (conf/author/<name>.yaml) or set "
                "evaluation.attribution.enabled=false"
            )
        attribution = fit_attribution(dataset, reference_texts, cfg, target)
        a = cfg.attribution
        own = attribution.share([s.answer for s in held_out(dataset, cfg)[: cfg.max_samples]], target,
                                a.bootstrap, a.confidence, a.seed)[0]
        summary = AttributionSummary(target=target, authors=attribution.authors,
                                     train_windows=attribution.train_counts, reference_attribution=own.value,
                                     confidence=a.confidence)
    def score(label: str, model_dir: Path | str, version: str | None) -> ModelScores:
        return score_model(label, model_dir, dataset, cfg, embedding, dtype, version, max_length, attribution, target)

    base = score("base", base_dir, None) if base_dir and cfg.compare_base else None
    production = None
    if production_dir and cfg.compare_production:
        production = score("production", production_dir, production_version)
    candidate = score("candidate", candidate_dir, candidate_version)
    if summary is not None and base is not None:
        hits = [s["attributed_to"] == target for s in candidate.samples]
        base_hits = [s["attributed_to"] == target for s in base.samples]
        a = cfg.attribution
        gain = bootstrap_gain(hits, base_hits, a.bootstrap, a.confidence, a.seed)
        summary = summary.model_copy(update={"gain": gain.value, "gain_low": gain.low, "gain_high": gain.high})
    return EvaluationReport(
        candidate=candidate,
        base=base,
        production=production,
        attribution=summary,
        held_out_samples=len(held_out(dataset, cfg)),
        dataset_hash=dataset.metadata.dataset_hash,
        duration_s=round(time.perf_counter() - started, 1),
    )
