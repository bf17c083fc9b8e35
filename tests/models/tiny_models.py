"""Tiny random models of each supported family, built in code (no hub), saved as a Hugging Face folder and
as a GGUF file, as a user's Hugging Face download / Ollama or LM Studio file would be.

Tokenizers are learned here on the bundled texts (a few hundred tokens: fast to convert and to load), each
shaped like its family's real one, so the export has to recognise it:
- llama: Llama 3 layout: byte-level BPE with Llama 3's pre-tokenizer split, `<|begin_of_text|>` and the
  header/eot special tokens, Llama-3-Instruct's chat template; untied embeddings and `llama3` rotary
  scaling (with a short original context, so the scaling changes the output at the lengths tests score).
- mistral: sentencepiece-style BPE with byte fallback (as Mistral-7B's tokenizer.json), `[INST]` control
  tokens and Mistral-Instruct-v0.3's template.
- qwen2: byte-level BPE with Qwen2's split (digits one by one), `<|im_start|>`/`<|im_end|>`, Qwen2-Instruct's
  ChatML template with its default system prompt; q/k/v biases, tied embeddings and a vocabulary padded
  beyond the tokenizer (as Qwen2's 151936 rows for 151665 tokens).

Weights are drawn with a larger initializer range than real training uses, so that logits are far from
uniform and a wrong export (permutation, rotary scaling, bias) moves perplexity visibly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
MISTRAL_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n"
    "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n"
    "{{- bos_token }}\n{%- for message in loop_messages %}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{- raise_exception('After the optional system message, conversation roles must alternate "
    "user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if message['role'] == 'user' %}\n"
    "        {%- if loop.last and system_message is defined %}\n"
    "            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}\n"
    "        {%- else %}\n            {{- '[INST] ' + message['content'] + '[/INST]' }}\n        {%- endif %}\n"
    "    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content'] + eos_token}}\n"
    "    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the "
    "exception of an initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n"
)
QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
FAMILIES = ("llama", "mistral", "qwen2")
DIMS = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 1024, "initializer_range": 0.25}
# The pre-tokenizer splits of Llama 3 and Qwen2 (their tokenizer.json `Split` patterns): digits in threes
# vs one by one, among others. The export must recognise which one a tokenizer uses.
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def training_texts() -> list[str]:
    """What the tiny tokenizers learn from: the bundled held-out texts, plus numbers and contractions so
    that multi-digit and apostrophe merges exist (they are what tells pre-tokenizers apart)."""
    from llm_twin.inference.heldout import bundled_texts

    extra = [" ".join(str(n) for n in range(1990, 2030)) + " 100 250 1000 12345 3.14",
             "I'm sure you're right, we'll see: it's what they've said and I'd agree. DON'T WON'T"] * 20
    return [*bundled_texts(), *extra]


def byte_level_tokenizer(split: str, specials: list[str], vocab_size: int = 900) -> Any:
    """A GPT-2-style byte-level BPE with the given pre-tokenizer split, learned from `training_texts`."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(training_texts(), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=backend)


def llama3_tokenizer() -> Any:
    tok = byte_level_tokenizer(LLAMA3_SPLIT, ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                              "<|end_header_id|>", "<|eot_id|>"])
    tok.bos_token, tok.eos_token, tok.pad_token = "<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>"
    tok.chat_template = LLAMA3_TEMPLATE
    return tok


def spm_tokenizer(vocab_size: int = 700) -> Any:
    """A Llama/Mistral-style tokenizer: <unk> <s> </s>, the 256 byte tokens, then BPE pieces over `▁`-joined
    words learned from `training_texts`; merges in learned order; `[INST]`/`[/INST]` control tokens."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    learner = Tokenizer(models.BPE(unk_token="<unk>"))
    learner.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    learner.train_from_iterator(training_texts(), trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False))
    learned = learner.get_vocab()
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in
              json.loads(learner.to_str())["model"]["merges"]]
    vocab: dict[str, int] = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in sorted(learned.items(), key=lambda kv: kv[1]):
        if piece not in vocab:
            vocab[piece] = len(vocab)
    tok = LlamaTokenizer(vocab=vocab, merges=merges)
    tok.add_special_tokens({"additional_special_tokens": ["[INST]", "[/INST]"]})
    tok.pad_token = tok.eos_token
    tok.chat_template = MISTRAL_TEMPLATE
    return tok


def qwen2_tokenizer() -> Any:
    tok = byte_level_tokenizer(QWEN2_SPLIT, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok.eos_token, tok.pad_token = "<|im_end|>", "<|endoftext|>"
    tok.chat_template = QWEN2_TEMPLATE
    return tok


def build_tiny(family: str, out: Path, seed: int = 0) -> Path:
    """A random tiny model of `family` with its tokenizer and chat template, saved as an HF folder `out`."""
    import torch
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    if family == "llama":
        tok = llama3_tokenizer()
        config: Any = LlamaConfig(
            vocab_size=len(tok), tie_word_embeddings=False, rms_norm_eps=1e-5,
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 32}, rope_theta=500000.0, **DIMS)
        cls: Any = LlamaForCausalLM
    elif family == "mistral":
        tok = spm_tokenizer()
        config = MistralConfig(vocab_size=len(tok), sliding_window=None, head_dim=16, rope_theta=1_000_000.0,
                               rms_norm_eps=1e-5, tie_word_embeddings=False, **DIMS)
        cls = MistralForCausalLM
    elif family == "qwen2":
        tok = qwen2_tokenizer()
        config = Qwen2Config(vocab_size=len(tok) + 40, tie_word_embeddings=True, rms_norm_eps=1e-6,
                             rope_theta=1_000_000.0, **DIMS)
        cls = Qwen2ForCausalLM
    else:
        raise ValueError(family)
    config.bos_token_id, config.eos_token_id, config.pad_token_id = tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
    torch.manual_seed(seed)
    model = cls(config)
    if family == "qwen2":  # real Qwen2 biases are far from zero; random ones make a missing bias visible
        with torch.no_grad():
            for layer in model.model.layers:
                for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                    proj.bias.normal_(0.0, 0.5)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


def save_as_gguf(hf_dir: Path, out: Path) -> Path:
    """The same model as a GGUF file (F16 weights, as a user's downloaded GGUF might be), written by the
    project's exporter from the HF folder; named without suffix in an Ollama-like blob path when asked."""
    from llm_twin.inference.gguf_export import export_gguf

    return export_gguf(hf_dir, None, out, "f16")
