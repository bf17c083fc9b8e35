"""The bitsandbytes backend (GPU stacks) has the same interface as the llama.cpp one; bitsandbytes'
CPU kernels let it run here on the base model (4-bit NF4)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_bnb_4bit_generator_generates(base_model_dir):
    from llm_twin.domain.prompts import build_messages, system_prompt
    from llm_twin.inference.generator import GenerationParams
    from llm_twin.inference.gpu import TransformersGenerator

    gen = TransformersGenerator(base_model_dir, bits=4, n_ctx=512)
    messages = build_messages("Write one sentence about databases.", None, system_prompt("You are {author}.", "Jane Doe"))
    assert "<|im_start|>assistant" in gen.render(messages)
    from llm_twin.config import ServingConfig, load_group

    decoding = load_group("serving", schema=ServingConfig).generation
    out = gen.generate(messages, GenerationParams.of(decoding, max_new_tokens=8, temperature=0.0))
    assert 1 <= out.completion_tokens <= 8 and out.prompt_tokens > 5
    assert out.finish_reason in ("stop", "length", "time_limit")
    gen.close()
