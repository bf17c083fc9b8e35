"""GGUF export of each family (llama, mistral, qwen2) from a Hugging Face folder: llama.cpp scores the same
tokens like PyTorch (a wrong rotary permutation does not), the tokenizer is described so that llama.cpp
tokenizes like the HF tokenizer (the pre-tokenizer is recognised, not guessed), serving renders each
family's prompt (BOS included) and stops at its end-of-turn token, and the Ollama Modelfile gets a
TEMPLATE that renders like the GGUF's chat template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_twin.inference import go_template
from llm_twin.inference.gguf_export import ExportError, choose_tokenizer_variant, export_gguf
from llm_twin.inference.heldout import bundled_texts
from llm_twin.models.gguf_header import read_header
from llm_twin.models.perplexity import gguf_perplexity, token_windows, torch_perplexity
from tests.configs import configured
from tests.models.tiny_models import FAMILIES

CONVERSATIONS = [
    [{"role": "system", "content": "You are Jane Doe's writing twin."},
     {"role": "user", "content": "Write a LinkedIn post about Kafka.\n\nUse this context:\n[1] streams"}],
    [{"role": "user", "content": "No system message here"}],
    [{"role": "system", "content": "sys"}, {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
     {"role": "user", "content": "q2 {{ not a template }} \\ \"quoted\""}],
]
EXPECTED = {  # family: (llama.cpp architecture, tokenizer model, pre-tokenizer, Ollama template family, BOS text)
    "llama": ("llama", "gpt2", "llama-bpe", "llama3", "<|begin_of_text|>"),
    "mistral": ("llama", "llama", None, "mistral", "<s>"),
    "qwen2": ("qwen2", "gpt2", "qwen2", "chatml", ""),
}


@pytest.fixture(scope="module")
def exported(tiny_hf, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exported")
    return {family: export_gguf(tiny_hf[family], None, out / f"{family}-f32.gguf") for family in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_f32_export_scores_like_pytorch(family, tiny_hf, exported, tmp_path):
    tolerance = configured("serving").quantization.export_tolerance
    windows = token_windows(tiny_hf[family], bundled_texts(), 128, 4)
    reference = torch_perplexity(tiny_hf[family], windows).perplexity
    drift = abs(gguf_perplexity(exported[family], windows).perplexity / reference - 1)
    assert drift < tolerance / 5, (family, drift)
    header = read_header(exported[family])
    arch, tokenizer_model, pre, _, _ = EXPECTED[family]
    assert header.get("general.architecture") == arch and header.get("tokenizer.ggml.model") == tokenizer_model
    assert header.get("tokenizer.ggml.pre") == pre
    if family == "llama":
        assert header.tensor("rope_freqs.weight") is not None  # Llama 3's rotary scaling
    if family == "qwen2":
        assert header.tensor("blk.0.attn_q.bias") is not None and header.tensor("output.weight") is None  # tied
        assert header.get("tokenizer.ggml.tokens")["array_of_strings"] == header.get("qwen2.vocab_size")  # padded
    if family in ("llama", "mistral"):  # the perplexity check has teeth on tiny models too
        wrong = export_gguf(tiny_hf[family], None, tmp_path / "wrong.gguf", permute_qk=False)
        assert abs(gguf_perplexity(wrong, windows).perplexity / reference - 1) > 10 * tolerance


def test_pre_tokenizer_is_recognised_not_guessed(tiny_hf):
    """The export's choice is a measurement: Llama 3's tokenizer (digits merged in threes) fails under Qwen2's
    split (digits one by one); Qwen2's (case-insensitive contractions, punctuation before words) under GPT-2's.
    (Qwen2's vocabulary has no multi-digit tokens, so Llama 3's split tokenizes it identically.)"""
    from transformers import AutoConfig

    from llm_twin.inference import gguf_metadata
    from llm_twin.models.families import family_of_model_type
    from llm_twin.models.loading import load_tokenizer

    for family, other in (("llama", "qwen2"), ("qwen2", "gpt-2")):
        folder = tiny_hf[family]
        tokenizer = load_tokenizer(folder)
        config = AutoConfig.from_pretrained(str(folder))
        tok = gguf_metadata.read_tokenizer(folder, tokenizer, config.vocab_size)
        fam = family_of_model_type(family)
        assert choose_tokenizer_variant(folder, config, fam, tokenizer, tok).pre == EXPECTED[family][2]
        gguf_metadata.PRE_CANDIDATES[fam.name], saved = (other,), gguf_metadata.PRE_CANDIDATES[fam.name]
        try:
            with pytest.raises(ExportError, match=f"pre='{other}'.*Hugging Face"):
                choose_tokenizer_variant(folder, config, fam, tokenizer, tok)
        finally:
            gguf_metadata.PRE_CANDIDATES[fam.name] = saved


def test_export_refuses_other_families_and_a_base_gguf_of_another_family(tiny_hf, tiny_gguf, tmp_path):
    gpt2 = tmp_path / "gpt2"
    shutil.copytree(tiny_hf["llama"], gpt2)
    cfg = json.loads((gpt2 / "config.json").read_text())
    (gpt2 / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(ExportError, match="supported: llama"):
        export_gguf(gpt2, None, tmp_path / "x.gguf")
    with pytest.raises(ExportError, match="architecture 'qwen2'.*base GGUF is 'llama'"):
        export_gguf(tiny_hf["qwen2"], tiny_gguf["llama"]["file"], tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()


@pytest.mark.parametrize("family", FAMILIES)
def test_serving_and_ollama_template_per_family(family, exported):
    from llm_twin.inference.generator import GenerationParams, LlamaGenerator, render_chat
    from llm_twin.inference.ollama import build_modelfile, collate, gguf_chat_template, gguf_eos_text
    from tests.inference.conftest import runtime_config

    gguf_path = exported[family]
    _, _, _, template_family, bos = EXPECTED[family]
    generator = LlamaGenerator(gguf_path, n_ctx=512, threads=2)
    try:
        prompt = generator.render(CONVERSATIONS[0])
        assert prompt.startswith(bos + ("<|start_header_id|>" if family == "llama" else ""))
        tokens = generator.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        if bos:
            assert tokens[0] == generator.llm.token_bos()  # BOS reaches the model once, as a token
            assert tokens[1] != generator.llm.token_bos()
        eos_text = gguf_eos_text(gguf_path)
        assert {generator.llm.tokenize(eos_text.encode(), add_bos=False, special=True)[0]} <= generator.eog
        params = GenerationParams.of(configured("serving").generation, max_new_tokens=8, temperature=0.0, seed=1)
        answer = generator.generate(CONVERSATIONS[0], params)
        assert answer.completion_tokens >= 1 and answer.finish_reason in ("length", "stop")
    finally:
        generator.close()

    modelfile = build_modelfile(gguf_path, runtime_config())
    assert modelfile.template is not None, "a known family gets a verified TEMPLATE"
    jinja = gguf_chat_template(gguf_path)
    for messages in CONVERSATIONS:
        system, merged = collate(messages)
        rendered = go_template.render(modelfile.template, {"Messages": merged, "System": system})
        assert rendered == render_chat(jinja, messages, eos=eos_text), template_family
    stops = [value for name, value in modelfile.parameters if name == "stop"]
    assert eos_text in stops or template_family == "chatml" and "<|im_end|>" in stops
