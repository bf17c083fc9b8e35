"""The training loss on labelled positions only (`completion_loss`) is the model's own causal-LM loss:
the same value and the same LoRA gradients, with the LM head applied to fewer positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.config import ModelConfig
from llm_twin.training.sft import completion_loss, lora_config


def _batch(tokenizer, torch):
    """Two chat-formatted rows of different lengths: prompt positions masked with -100, right padding."""
    rows = [("Write a post about vector search.", "Recall beats latency when the index is warm."),
            ("Explain CDC in one line.", "Change streams tell the feature store what moved, as it moves.")]
    ids, labels = [], []
    for prompt, completion in rows:
        p = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True)
        p = list(p["input_ids"]) if isinstance(p, dict) or hasattr(p, "keys") else list(p)
        c = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids.append(p + c)
        labels.append([-100] * len(p) + c)
    width = max(map(len, ids))
    pad = tokenizer.pad_token_id
    return {
        "input_ids": torch.tensor([r + [pad] * (width - len(r)) for r in ids]),
        "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids]),
        "labels": torch.tensor([r + [-100] * (width - len(r)) for r in labels]),
    }


@pytest.mark.parametrize("num_items", [None, 40])
def test_completion_loss_matches_the_models_own_loss_and_gradients(tiny_mistral_dir: Path, mistral_cfg: ModelConfig,
                                                                    num_items: int | None) -> None:
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_mistral_dir))
    cfg = mistral_cfg.model_copy(update={"lora": mistral_cfg.lora.model_copy(update={"dropout": 0.0})})
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(tiny_mistral_dir)), lora_config(cfg))
    model.train()
    for p in model.parameters():  # a non-zero B, so the adapter's gradients are not trivially equal
        if p.requires_grad:
            torch.nn.init.normal_(p, std=0.02)
    batch = _batch(tokenizer, torch)
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    assert 0 < labelled < int(batch["attention_mask"].sum()) - 2  # the prompt positions really are skipped

    extra = {} if num_items is None else {"num_items_in_batch": torch.tensor(num_items)}
    reference = model(**batch, **extra).loss
    reference.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()

    loss, outputs = completion_loss(model, dict(batch), extra.get("num_items_in_batch"))
    loss.backward()
    assert outputs.logits.shape[0] == labelled  # the LM head saw only the labelled positions
    assert torch.allclose(loss, reference, rtol=1e-5, atol=1e-6)
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert torch.allclose(p.grad, expected[name], rtol=1e-4, atol=1e-7), name
