"""An Ollama `Modelfile` for the served GGUF: `ollama create twin -f Modelfile && ollama run twin`.

The Modelfile carries what Ollama cannot know on its own: the twin's system prompt (conf/serving), the
decoding settings the service uses, and a TEMPLATE in Ollama's Go text/template syntax equivalent to the
chat template stored in the GGUF (Jinja, `tokenizer.chat_template`). The TEMPLATE comes from a family
table (ChatML: SmolLM2, Qwen2/2.5 and others; Llama 3: `<|start_header_id|>` turns; Mistral-Instruct:
`[INST]` turns, the system prompt joined to the last user turn) and is verified before it is written: for a
few conversations it must render exactly the prompt text the GGUF's own template renders (the service
renders with that Jinja template too; BOS is left out on both sides, as Ollama's tokenizer adds it). A
template of no known family, or one that renders differently (Llama 3.1's date header, tool-calling
templates...), gets no TEMPLATE line and a warning: Ollama then picks a template by matching the GGUF's
chat template against its own library, which is the documented fallback.

Ollama does not retrieve: a twin in Ollama writes in the author's voice without the author's content as
context; the service (`bentoml serve`) is the grounded path.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pydantic import BaseModel

from llm_twin.domain.prompts import system_prompt
from llm_twin.inference import go_template
from llm_twin.inference.generator import render_chat

log = logging.getLogger(__name__)

MODELFILE = "Modelfile"
INSTRUCTIONS = ("FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE", "REQUIRES")
# Ollama's PARAMETER names and their value types (api.Options in Ollama's source).
PARAMETERS: dict[str, type] = {
    "num_ctx": int, "num_batch": int, "num_gpu": int, "main_gpu": int, "use_mmap": bool, "num_thread": int,
    "num_keep": int, "seed": int, "num_predict": int, "top_k": int, "top_p": float, "min_p": float,
    "typical_p": float, "repeat_last_n": int, "temperature": float, "repeat_penalty": float,
    "presence_penalty": float, "frequency_penalty": float, "mirostat": int, "mirostat_tau": float,
    "mirostat_eta": float, "penalize_newline": bool, "stop": str,
}

# Conversations the TEMPLATE must render exactly like the GGUF's Jinja (no two turns of one role in a row:
# Ollama merges those before templating).
SAMPLE_CONVERSATIONS: list[list[dict[str, str]]] = [
    [{"role": "system", "content": "You are a writing twin."}, {"role": "user", "content": "Write a post."}],
    [{"role": "user", "content": "Hello there"}],
    [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
     {"role": "user", "content": "Q2 with {{ braces }} and \"quotes\"\nand lines"}],
    [{"role": "user", "content": "first"}, {"role": "assistant", "content": "reply"},
     {"role": "user", "content": "ünïcode ✓"}],
]


class ChatFamily(BaseModel):
    name: str
    template: str  # Go text/template
    stops: list[str]


class UnsupportedTemplate(ValueError):
    """The GGUF's chat template matches no family whose Go template is known."""


def chatml_family(jinja: str, eos: str = "") -> ChatFamily | None:
    """ChatML (`<|im_start|>role\\n...<|im_end|>\\n`), with the default system prompt some models add when
    a conversation has none (SmolLM2: "You are a helpful AI assistant named SmolLM...")."""
    if "<|im_start|>" not in jinja or "<|im_end|>" not in jinja:
        return None
    default = re.search(r"<\|im_start\|>system(?:\\n|\n)(.*?)<\|im_end\|>", jinja, re.DOTALL)
    head = ""
    if default and "messages[0]['role'] != 'system'" in jinja.replace('"', "'"):
        head = ('{{- if and (eq $i 0) (ne $m.Role "system") }}<|im_start|>system\n'
                f"{default.group(1)}<|im_end|>\n{{{{ end }}}}")
    template = ("{{- range $i, $m := .Messages }}\n" + head +
                "<|im_start|>{{ $m.Role }}\n{{ $m.Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n")
    if not head:
        template = template.replace("{{- range $i, $m := .Messages }}\n", "{{- range $i, $m := .Messages }}")
    return ChatFamily(name="chatml", template=template, stops=["<|im_end|>", "<|im_start|>"])


def llama3_family(jinja: str, eos: str = "") -> ChatFamily | None:
    """Llama 3 (`<|start_header_id|>role<|end_header_id|>\\n\\n...<|eot_id|>`), as Ollama's llama3 template."""
    if "<|start_header_id|>" not in jinja or "<|eot_id|>" not in jinja:
        return None
    template = ("{{- range $i, $m := .Messages }}<|start_header_id|>{{ $m.Role }}<|end_header_id|>\n\n"
                "{{ $m.Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n")
    return ChatFamily(name="llama3", template=template,
                      stops=["<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"])


def mistral_family(jinja: str, eos: str = "") -> ChatFamily | None:
    """Mistral-Instruct (`[INST] ...[/INST]`, answers closed by EOS): the system prompt goes before the last
    user turn, as Mistral-7B-Instruct-v0.3's template and Ollama's mistral template do."""
    if "[INST]" not in jinja or "[/INST]" not in jinja or not eos:
        return None
    template = ('{{- range $i, $m := .Messages }}{{- if eq $m.Role "user" }}[INST] '
                "{{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}\n\n{{ end }}"
                '{{ $m.Content }}[/INST]{{- else if eq $m.Role "assistant" }} {{ $m.Content }}' + eos +
                "{{- end }}{{- end }}")
    return ChatFamily(name="mistral", template=template, stops=["[INST]", "[/INST]", eos])


FAMILIES = (chatml_family, llama3_family, mistral_family)


def collate(messages: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """What Ollama does before templating: consecutive turns of one role merge, system texts join."""
    system: list[str] = []
    merged: list[dict[str, str]] = []
    for m in messages:
        if m["role"] == "system":
            system.append(m["content"])
        if merged and merged[-1]["Role"] == m["role"]:
            merged[-1]["Content"] += "\n\n" + m["content"]
        else:
            merged.append({"Role": m["role"], "Content": m["content"]})
    return "\n\n".join(system), merged


def render_ollama(template: str, messages: list[dict[str, str]]) -> str:
    system, merged = collate(messages)
    return go_template.render(template, {"Messages": merged, "System": system, "Tools": [], "Response": "",
                                         "Prompt": ""})


def verify_template(family: ChatFamily, jinja: str,
                    conversations: list[list[dict[str, str]]] = SAMPLE_CONVERSATIONS, eos: str = "") -> None:
    for messages in conversations:
        expected = render_chat(jinja, messages, eos=eos)
        got = render_ollama(family.template, messages)
        if got != expected:
            raise UnsupportedTemplate(
                f"{family.name} TEMPLATE renders {got!r} where the GGUF's template renders {expected!r}")


def ollama_family(jinja: str, eos: str = "") -> ChatFamily:
    """The Ollama TEMPLATE equivalent to the GGUF's Jinja chat template (verified by rendering); `eos` is
    the EOS token's text, which templates such as Mistral's write after each answer."""
    for detect in FAMILIES:
        family = detect(jinja, eos)
        if family is not None:
            verify_template(family, jinja, eos=eos)
            return family
    raise UnsupportedTemplate("the GGUF's chat template matches no known family (ChatML, Llama 3, Mistral-Instruct)")


class Modelfile(BaseModel):
    source: str = "./twin.gguf"
    template: str | None
    system: str
    parameters: list[tuple[str, str | int | float]]

    def render(self) -> str:
        lines = ["# Ollama Modelfile of the LLM twin (written by `python run.py pipeline=deploy`).",
                 "#   ollama create twin -f Modelfile && ollama run twin",
                 f"FROM {self.source}"]
        if self.template is not None:
            lines.append(f'TEMPLATE """{_triple(self.template)}"""')
        lines.append(f'SYSTEM """{_triple(self.system)}"""')
        for name, value in self.parameters:
            lines.append(f"PARAMETER {name} {_param_value(name, value)}")
        return "\n".join(lines) + "\n"


def _triple(text: str) -> str:
    if '"""' in text:
        raise ValueError('a Modelfile """ block cannot contain """')
    return text


def _param_value(name: str, value: str | float) -> str:
    if PARAMETERS.get(name) is str:
        if '"' in str(value) or "\n" in str(value):
            raise ValueError(f"PARAMETER {name} value {value!r} cannot hold quotes or newlines")
        return f'"{value}"'
    return repr(value) if isinstance(value, float) else str(value)


def gguf_chat_template(gguf_path: Path) -> str | None:
    from llm_twin.models.gguf_header import read_header

    template = read_header(gguf_path).get("tokenizer.chat_template")
    return str(template) if template else None


def gguf_eos_text(gguf_path: Path) -> str:
    """The text of the GGUF's EOS token ("" when it has none)."""
    from llm_twin.models.gguf_header import read_header

    header = read_header(gguf_path, string_arrays=("tokenizer.ggml.tokens",))
    eos, tokens = header.get("tokenizer.ggml.eos_token_id"), header.get("tokenizer.ggml.tokens")
    return str(tokens[eos]) if isinstance(tokens, list) and isinstance(eos, int) and 0 <= eos < len(tokens) else ""


def build_modelfile(gguf_path: Path, runtime) -> Modelfile:
    """`runtime` is the bundle's RuntimeConfig: system prompt, author and decoding settings."""
    serving = runtime.serving
    jinja = gguf_chat_template(gguf_path)
    template, stops = None, []
    if jinja:
        try:
            family = ollama_family(jinja, gguf_eos_text(gguf_path))
            template, stops = family.template, family.stops
        except UnsupportedTemplate as exc:
            log.warning("no Ollama TEMPLATE written (Ollama will guess from the GGUF): %s", exc)
    system = system_prompt(serving.system_prompt, runtime.author or "")
    gen = serving.generation
    params: list[tuple[str, str | int | float]] = [
        ("temperature", float(gen.temperature)), ("top_p", float(gen.top_p)),
        ("repeat_penalty", float(gen.repeat_penalty)), ("num_predict", int(gen.max_new_tokens)),
        ("num_ctx", int(serving.n_ctx)),
    ]
    params += [("stop", s) for s in dict.fromkeys([*stops, *gen.stop])]
    return Modelfile(source=f"./{Path(gguf_path).name}", template=template, system=system, parameters=params)


def write_modelfile(gguf_path: Path, runtime) -> Path:
    """Write `Modelfile` beside the GGUF (FROM is relative, so the folder can be copied as it is)."""
    path = Path(gguf_path).with_name(MODELFILE)
    path.write_text(build_modelfile(gguf_path, runtime).render())
    return path


# -- reading a Modelfile back (tests, and a check before packaging) -------------------------------------------


def parse_modelfile(text: str) -> list[tuple[str, str]]:
    """(instruction, argument) pairs; `\"\"\"` blocks may span lines. Raises ValueError on bad syntax."""
    out: list[tuple[str, str]] = []
    pos = 0
    line_re = re.compile(r"[ \t]*(?:#[^\n]*)?\n|[ \t]*$")
    inst_re = re.compile(r"([A-Za-z]+)[ \t]+")
    while pos < len(text):
        blank = line_re.match(text, pos)
        if blank and blank.end() > pos:
            pos = blank.end()
            continue
        m = inst_re.match(text, pos)
        if not m:
            raise ValueError(f"line {text.count(chr(10), 0, pos) + 1}: expected an instruction")
        name = m.group(1).upper()
        if name not in INSTRUCTIONS:
            raise ValueError(f"unknown instruction {name!r}")
        pos = m.end()
        if text.startswith('"""', pos):
            end = text.find('"""', pos + 3)
            if end < 0:
                raise ValueError(f'{name}: unterminated """ block')
            out.append((name, text[pos + 3:end]))
            pos = end + 3
        else:
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            out.append((name, text[pos:end].rstrip()))
            pos = end
    return out


def validate_modelfile(text: str) -> list[tuple[str, str]]:
    """Ollama's rules for what the twin writes: one FROM, known PARAMETER names with values of their type."""
    entries = parse_modelfile(text)
    froms = [arg for name, arg in entries if name == "FROM"]
    if len(froms) != 1 or not froms[0]:
        raise ValueError("a Modelfile needs exactly one FROM")
    for name, arg in entries:
        if name != "PARAMETER":
            continue
        key, _, value = arg.partition(" ")
        kind = PARAMETERS.get(key)
        if kind is None:
            raise ValueError(f"unknown PARAMETER {key!r}")
        value = value.strip()
        if kind is str:
            if not (len(value) >= 2 and value[0] == value[-1] == '"'):
                raise ValueError(f"PARAMETER {key} takes a quoted string, got {value!r}")
        elif kind is bool:
            if value not in ("true", "false"):
                raise ValueError(f"PARAMETER {key} takes true/false, got {value!r}")
        else:
            try:
                kind(value)
            except ValueError as exc:
                raise ValueError(f"PARAMETER {key} takes {kind.__name__}, got {value!r}") from exc
    return entries
