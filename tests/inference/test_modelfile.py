"""The Ollama Modelfile that deploy writes beside the served GGUF: valid Modelfile syntax, and a TEMPLATE
(Go text/template) that renders exactly the prompt the GGUF's own Jinja chat template renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.inference import go_template
from llm_twin.inference.ollama import (
    MODELFILE,
    PARAMETERS,
    UnsupportedTemplate,
    build_modelfile,
    chatml_family,
    collate,
    gguf_chat_template,
    ollama_family,
    parse_modelfile,
    validate_modelfile,
    verify_template,
)
from tests.inference.conftest import AUTHOR

CONVERSATIONS = [
    [{"role": "system", "content": "You are Jane Doe's writing twin."},
     {"role": "user", "content": "Write a LinkedIn post about Kafka.\n\nUse this context:\n[1] streams"}],
    [{"role": "user", "content": "No system message here"}],
    [{"role": "system", "content": "sys"}, {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
     {"role": "user", "content": "q2 {{ not a template }} \\ \"quoted\""}],
    [{"role": "user", "content": "  leading and trailing spaces  "}, {"role": "assistant", "content": ""},
     {"role": "user", "content": "émoji 🚀 and\ttabs"}],
]


def jinja_render(template: str, messages: list[dict[str, str]]) -> str:
    """The GGUF's template as llama.cpp's Python binding renders it (the service renders the same way)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token="", bos_token="")(messages=messages).prompt


@pytest.fixture(scope="module")
def bundle_modelfile(service_bundle: Path) -> Path:
    """Written by write_bundle (what `pipeline=deploy` runs) beside the served GGUF and packaged."""
    return service_bundle / "model" / MODELFILE


def test_deploy_bundle_carries_a_valid_modelfile(bundle_modelfile: Path):
    text = bundle_modelfile.read_text()
    entries = validate_modelfile(text)
    names = [name for name, _ in entries]
    assert names[0] == "FROM" and names.count("FROM") == 1
    assert dict(entries)["FROM"] == "./twin.gguf"
    assert (bundle_modelfile.parent / "twin.gguf").is_file()
    system = [arg for name, arg in entries if name == "SYSTEM"]
    assert system == [f"You are {AUTHOR}'s writing twin: write in their voice, style and opinions."]
    params = [arg.split(" ", 1) for name, arg in entries if name == "PARAMETER"]
    assert all(key in PARAMETERS for key, _ in params)
    values = dict(params)
    assert float(values["temperature"]) == 0.7 and float(values["top_p"]) == 0.9
    assert float(values["repeat_penalty"]) == 1.1 and int(values["num_predict"]) == 256
    assert int(values["num_ctx"]) == 2048
    stops = [value for key, value in params if key == "stop"]
    assert stops == ['"<|im_end|>"', '"<|im_start|>"']
    assert "ollama create twin -f Modelfile" in text


def test_template_renders_like_the_gguf_template(bundle_modelfile: Path):
    template = dict(parse_modelfile(bundle_modelfile.read_text()))["TEMPLATE"]
    jinja = gguf_chat_template(bundle_modelfile.parent / "twin.gguf")
    assert jinja and "<|im_start|>" in jinja
    for messages in CONVERSATIONS:
        system, merged = collate(messages)
        ollama = go_template.render(template, {"Messages": merged, "System": system})
        assert ollama == jinja_render(jinja, messages)


def test_unknown_template_family_gets_no_template(tmp_path: Path):
    gemma = ("{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
             "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    with pytest.raises(UnsupportedTemplate):
        ollama_family(gemma)
    # Llama 3.1's template adds a dated system header that Ollama's plain llama3 TEMPLATE does not write:
    # recognised as Llama 3, refused by the rendering check (no TEMPLATE: Ollama picks its own)
    llama31 = ("{{- bos_token }}<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023"
               "<|eot_id|>{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
               "{{ m['content'] }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant"
               "<|end_header_id|>\n\n{% endif %}")
    with pytest.raises(UnsupportedTemplate, match="llama3 TEMPLATE renders"):
        ollama_family(llama31)
    # a ChatML look-alike that renders differently is caught by the rendering check, not written
    odd = "{% for m in messages %}<|im_start|>{{ m['role'] }}: {{ m['content'] }}<|im_end|>{% endfor %}"
    family = chatml_family(odd)
    assert family is not None
    with pytest.raises(UnsupportedTemplate, match="renders"):
        verify_template(family, odd)


def test_chatml_without_default_system():
    plain = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
             "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    family = ollama_family(plain)
    assert "SmolLM" not in family.template
    for messages in CONVERSATIONS:
        system, merged = collate(messages)
        assert go_template.render(family.template, {"Messages": merged, "System": system}) == jinja_render(plain, messages)


def test_modelfile_syntax_errors_are_caught():
    with pytest.raises(ValueError, match="unknown instruction"):
        validate_modelfile("FROM ./x.gguf\nPARAMTER temperature 1\n")
    with pytest.raises(ValueError, match="unknown PARAMETER"):
        validate_modelfile("FROM ./x.gguf\nPARAMETER temprature 1\n")
    with pytest.raises(ValueError, match="takes float"):
        validate_modelfile("FROM ./x.gguf\nPARAMETER temperature hot\n")
    with pytest.raises(ValueError, match="quoted string"):
        validate_modelfile("FROM ./x.gguf\nPARAMETER stop <|im_end|>\n")
    with pytest.raises(ValueError, match="unterminated"):
        validate_modelfile('FROM ./x.gguf\nTEMPLATE """{{ .Prompt }}\n')
    with pytest.raises(ValueError, match="exactly one FROM"):
        validate_modelfile("PARAMETER temperature 1\n")


def test_modelfile_of_a_custom_serving_config(tmp_path: Path, service_bundle: Path):
    from tests.inference.conftest import runtime_config

    runtime = runtime_config(author="Ann Lee", serving={
        "system_prompt": "Write like {author}, briefly.", "n_ctx": 1024,
        "generation": {"temperature": 0.2, "top_p": 0.5, "max_new_tokens": 64, "stop": ["END"]}})
    modelfile = build_modelfile(service_bundle / "model" / "twin.gguf", runtime)
    text = modelfile.render()
    entries = validate_modelfile(text)
    assert ("SYSTEM", "Write like Ann Lee, briefly.") in entries
    assert ("PARAMETER", "num_ctx 1024") in entries and ("PARAMETER", "temperature 0.2") in entries
    assert ("PARAMETER", 'stop "END"') in entries


# -- the Go-template renderer itself, on cases whose Go output is known ------------------------------------

@pytest.mark.parametrize(("source", "data", "expected"), [
    ("a {{- \" b \" -}} c", {}, "a b c"),
    ("x\n  {{- .A }}\n  y", {"A": 1}, "x1\n  y"),
    ("{{ if .A }}yes{{ else if .B }}b{{ else }}no{{ end }}", {"A": "", "B": [1]}, "b"),
    ("{{ range $i, $m := .L }}{{ $i }}={{ $m.N }};{{ end }}", {"L": [{"N": "a"}, {"N": "b"}]}, "0=a;1=b;"),
    ("{{ range .L }}{{ . }}{{ else }}empty{{ end }}", {"L": []}, "empty"),
    ("{{ and 1 0 }} {{ or 0 \"x\" }} {{ not 0 }} {{ eq 2 1 2 }} {{ ne \"a\" \"b\" }}", {}, "0 x true true true"),
    ("{{ len .L }} {{ index .L 1 }} {{ len (slice .L 1) }}", {"L": [1, 2, 3]}, "3 2 2"),
    ("{{ range $i, $_ := .L }}{{ if eq (len (slice $.L $i)) 1 }}last{{ end }}{{ end }}", {"L": [1, 2]}, "last"),
    ("{{/* a comment */}}ok", {}, "ok"),
])
def test_go_template_subset(source, data, expected):
    assert go_template.render(source, data) == expected


@pytest.mark.parametrize("source", ["{{ if .A }}x", "{{ end }}", "{{ with .A }}x{{ end }}", "{{ .A | printf }}",
                                    "{{ frobnicate .A }}"])
def test_go_template_rejects_what_it_does_not_support(source):
    with pytest.raises(go_template.TemplateError):
        go_template.render(source, {"A": 1})
