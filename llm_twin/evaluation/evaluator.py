"""Score base, candidate and (when there is one) current production on the same held-out set.

Each model: answer-only perplexity on all held-out samples; greedy generations for up to `max_samples`
held-out prompts; ROUGE-L and BLEU against the author's real text; style similarity to the author's
training texts; optionally an LLM judge. One model is in memory at a time.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.evaluation import EvaluationConfig
from llm_twin.domain.datasets import InstructDataset, InstructSample
from llm_twin.evaluation.schemas import EvaluationReport, ModelScores
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


def score_model(
    label: str,
    model_dir: Path | str,
    dataset: InstructDataset,
    cfg: EvaluationConfig,
    embedding: EmbeddingConfig,
    dtype: str = "float32",
    version: str | None = None,
    max_length: int = 2048,
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
    scores = ModelScores(
        label=label,
        model_dir=str(model_dir),
        version=version,
        perplexity=ppl,
        rouge_l=rouge_l(generations, references),
        bleu=bleu(generations, references),
        judge_score=judge,
        tokens_per_s=n_tokens / elapsed if elapsed > 0 else 0.0,
        samples=[
            {"id": s.id, "instruction": s.instruction, "generated": g, "reference": s.answer}
            for s, g in zip(gen_samples, generations)
        ],
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
) -> EvaluationReport:
    started = time.perf_counter()
    base = score_model("base", base_dir, dataset, cfg, embedding, dtype, None, max_length) if base_dir and cfg.compare_base else None
    production = None
    if production_dir and cfg.compare_production:
        production = score_model("production", production_dir, dataset, cfg, embedding, dtype, production_version,
                                 max_length)
    candidate = score_model("candidate", candidate_dir, dataset, cfg, embedding, dtype, candidate_version, max_length)
    return EvaluationReport(
        candidate=candidate,
        base=base,
        production=production,
        held_out_samples=len(held_out(dataset, cfg)),
        dataset_hash=dataset.metadata.dataset_hash,
        duration_s=round(time.perf_counter() - started, 1),
    )
