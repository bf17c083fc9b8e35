"""Preference dataset for the optional DPO stage: chosen = the author's text, rejected = the base model's
answer to the same prompt (what the twin should move away from)."""

from __future__ import annotations

from pathlib import Path

from llm_twin.config.dataset import PreferenceConfig
from llm_twin.config.model import ModelConfig
from llm_twin.domain.datasets import InstructDataset, PreferenceDataset, PreferenceSample
from llm_twin.models.generation import GreedyDecoding, generate
from llm_twin.models.loading import load_causal_lm
from llm_twin.models.threads import configure_torch_threads


def build_preference_dataset(
    dataset: InstructDataset, base_dir: Path | str, model_cfg: ModelConfig, cfg: PreferenceConfig
) -> PreferenceDataset:
    picked = [s for s in dataset.train if s.kind == "plain"][: cfg.max_samples]
    if not picked or cfg.max_samples == 0:
        return PreferenceDataset(base_model=model_cfg.base_model_id)
    configure_torch_threads("auto")
    model, tok = load_causal_lm(base_dir, model_cfg.dtype)
    answers = generate(
        model, tok, [s.prompt_messages() for s in picked],
        GreedyDecoding(max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size),
    )
    samples = [
        PreferenceSample(id=s.id, prompt=s.prompt_messages(), chosen=s.answer, rejected=a or "(no answer)")
        for s, a in zip(picked, answers)
    ]
    return PreferenceDataset(samples=samples, base_model=model_cfg.base_model_id)
