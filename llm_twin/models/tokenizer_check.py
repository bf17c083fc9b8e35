"""Does llama.cpp tokenize like the Hugging Face tokenizer? A check on probe texts, for both directions of a
GGUF <-> Hugging Face conversion.

The perplexity check of an export scores token ids that the HF tokenizer produced, so it cannot see a
tokenizer that llama.cpp reads differently (a wrong pre-tokenizer splits digits, spaces or contractions
otherwise; a wrong special-token type cuts `<|im_start|>` into pieces). Training tokenizes with HF, serving
with llama.cpp: they must agree, and this check is what proves it. It loads the GGUF's vocabulary only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

# Texts that tell pre-tokenizers apart: digit runs (split 1 / 1-3 / all), contractions in both cases,
# runs of spaces, tabs and newlines, punctuation runs, non-Latin scripts, code and a URL.
PROBE_TEXTS: tuple[str, ...] = (
    "Hello world! In 2024 we shipped 12345 features, v3.14.159 and 1,000,000 tests.",
    "I'm sure you're right: we'll see, they've said it's DON'T and WON'T and I'D.",
    "  two leading spaces,   three inside,\ttabs\t\tand\n\nnew lines\n   \n end  ",
    "Ünïcödé: naïve café, Straße, 日本語のテキスト, русский текст, emoji 🚀✨ and ½ ⅓ ٣.",
    "def retry(fn, attempts=3):\n    for i in range(attempts):  # back off\n        time.sleep(2 ** i)\n",
    "See https://example.com/a_b-c?x=1&y=%20 -- or email me@example.org!!! ...?!",
)


class TokenizationMismatch(BaseModel):
    text: str
    hf: list[int]
    llama_cpp: list[int]


def sample_chat_text(tokenizer: Any) -> str | None:
    """A short conversation rendered with the tokenizer's chat template (special tokens as text), or None."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    messages = [{"role": "system", "content": "You write like the author."},
                {"role": "user", "content": "Write a post about 3 vector databases."},
                {"role": "assistant", "content": "Here's my take: use one."},
                {"role": "user", "content": "And another?"}]
    try:
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    except Exception:  # noqa: BLE001 - a template that refuses this conversation: check plain texts only
        return None


def compare_tokenization(gguf_path: Path | str, tokenizer: Any,
                         texts: Sequence[str] | None = None) -> list[TokenizationMismatch]:
    """The probe texts (and a rendered chat) that llama.cpp tokenizes differently from `tokenizer`.

    Special tokens written as text are parsed on both sides (`special=True` / the HF default), and no
    BOS is added on either side: only the vocabulary and the pre-tokenizer are compared. Each plain probe
    follows a special token (BOS, or EOS), as all text the twin tokenizes does (a chat template starts with
    one): sentencepiece-style tokenizers differ on a space prefix at the very start of a string, which
    neither training nor serving ever tokenizes.
    """
    from llama_cpp import Llama

    lead = str(getattr(tokenizer, "bos_token", None) or getattr(tokenizer, "eos_token", None) or "")
    probes = [lead + t for t in (texts if texts is not None else PROBE_TEXTS)]
    chat = sample_chat_text(tokenizer)
    if chat:
        probes.append(chat)
    llm = Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)
    try:
        mismatches = []
        for text in probes:
            ours = list(tokenizer(text, add_special_tokens=False)["input_ids"])
            theirs = list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
            if ours != theirs:
                mismatches.append(TokenizationMismatch(text=text, hf=ours, llama_cpp=theirs))
        return mismatches
    finally:
        llm.close()


def describe(mismatch: TokenizationMismatch, tokenizer: Any) -> str:
    """The first differing position of a mismatch, as token strings, for an error message."""
    first = next((i for i, (a, b) in enumerate(zip(mismatch.hf, mismatch.llama_cpp)) if a != b),
                 min(len(mismatch.hf), len(mismatch.llama_cpp)))
    hf = tokenizer.convert_ids_to_tokens(mismatch.hf[first:first + 4])
    cpp = tokenizer.convert_ids_to_tokens(mismatch.llama_cpp[first:first + 4])
    return f"in {mismatch.text[:60]!r}: Hugging Face {hf} vs llama.cpp {cpp} at token {first}"
