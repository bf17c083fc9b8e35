"""A base model the user already has: `local_path` in one YAML file points at a Hugging Face folder, a GGUF
file (LM Studio folder, Ollama blob, manifest or `ollama:<name>`); what cannot be used fails with its reason;
a GGUF converts once, keyed by its hash, into the same model (weights, rotary scaling, tokenizer)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from llm_twin.models.base import BaseModelError, base_gguf, base_model_dir
from llm_twin.models.gguf_import import read_marker
from llm_twin.models.local_source import LocalModelError, resolve_local_path
from tests.models.conftest import user_model_config
from tests.models.tiny_models import FAMILIES


def test_every_place_a_user_keeps_a_model_resolves(tiny_hf, tiny_gguf, monkeypatch):
    g = tiny_gguf["llama"]
    assert resolve_local_path(str(tiny_hf["llama"])).kind == "hf_folder"
    assert resolve_local_path(str(g["file"])).path == g["file"]  # LM Studio's <publisher>/<repo>/<file>.gguf
    assert resolve_local_path(str(g["lmstudio_dir"])).path == g["file"]  # ... or its folder
    assert resolve_local_path(str(g["ollama_blob"])).kind == "gguf"  # an Ollama blob has no suffix
    assert resolve_local_path(str(g["ollama_manifest"])).path == g["ollama_blob"]
    monkeypatch.setenv("OLLAMA_MODELS", str(g["ollama_root"]))
    assert resolve_local_path("ollama:tiny-llama").path == g["ollama_blob"]
    assert resolve_local_path("ollama:tiny-llama:latest").path == g["ollama_blob"]
    monkeypatch.setenv("TINY_MODELS", str(tiny_hf["qwen2"].parent))
    assert resolve_local_path("$TINY_MODELS/tiny-qwen2").path == tiny_hf["qwen2"]


def test_what_cannot_be_used_fails_with_its_reason(tmp_path, tiny_hf, tiny_gguf, monkeypatch):
    with pytest.raises(LocalModelError, match="does not exist"):
        resolve_local_path(str(tmp_path / "nope"))
    monkeypatch.setenv("OLLAMA_MODELS", str(tiny_gguf["llama"]["ollama_root"]))
    with pytest.raises(LocalModelError, match="ollama list"):
        resolve_local_path("ollama:not-pulled:7b")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LocalModelError, match="neither a Hugging Face model folder"):
        resolve_local_path(str(tmp_path / "empty"))
    two = tmp_path / "two"
    two.mkdir()
    for name in ("a-Q4_K_M.gguf", "a-Q8_0.gguf"):
        shutil.copy(tiny_gguf["llama"]["file"], two / name)
    with pytest.raises(LocalModelError, match="several GGUF files.*a-Q4_K_M.gguf"):
        resolve_local_path(str(two))
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 2_000_000)
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        resolve_local_path(str(tmp_path / "weights.bin"))
    manifest = json.loads(tiny_gguf["llama"]["ollama_manifest"].read_text())
    adapter = tmp_path / "manifests" / "registry.ollama.ai" / "library" / "m" / "latest"
    adapter.parent.mkdir(parents=True)
    adapter.write_text(json.dumps({"layers": [*manifest["layers"], {"mediaType": "application/vnd.ollama.image.adapter",
                                                                    "digest": "sha256:" + "1" * 64}]}))
    with pytest.raises(LocalModelError, match="LoRA adapter layer"):
        resolve_local_path(str(adapter))
    adapter.write_text(json.dumps(manifest))
    with pytest.raises(LocalModelError, match="ollama pull"):
        resolve_local_path(str(adapter))  # its blob is not in this store


def test_unsupported_or_unusable_base_models_name_what_is_supported(tmp_path, tiny_hf, tiny_gguf):
    gpt2 = tmp_path / "gpt2"
    shutil.copytree(tiny_hf["llama"], gpt2)
    cfg = json.loads((gpt2 / "config.json").read_text())
    (gpt2 / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(BaseModelError, match=r"'gpt2'.*supported: llama .*mistral .*qwen2"):
        base_model_dir(user_model_config(tmp_path, "gpt2_model", gpt2))

    no_template = tmp_path / "base-not-instruct"
    shutil.copytree(tiny_hf["qwen2"], no_template)
    (no_template / "chat_template.jinja").unlink(missing_ok=True)
    tok_cfg = json.loads((no_template / "tokenizer_config.json").read_text())
    tok_cfg.pop("chat_template", None)
    (no_template / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    with pytest.raises(BaseModelError, match="no chat template.*instruct"):
        base_model_dir(user_model_config(tmp_path, "no_template", no_template))

    partial = tmp_path / "partial-download"
    shutil.copytree(tiny_hf["mistral"], partial)
    for weights in partial.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(BaseModelError, match="no weights"):
        base_model_dir(user_model_config(tmp_path, "partial", partial))

    import gguf

    gemma = tmp_path / "gemma.gguf"
    writer = gguf.GGUFWriter(str(gemma), "gemma2")
    writer.add_chat_template("{{ messages }}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(BaseModelError, match=r"'gemma2' is not supported.*llama, qwen2"):
        base_model_dir(user_model_config(tmp_path, "gemma", gemma))

    plain = tmp_path / "no-template.gguf"
    writer = gguf.GGUFWriter(str(plain), "llama")
    writer.add_tokenizer_model("gpt2")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(BaseModelError, match="no chat template"):
        base_model_dir(user_model_config(tmp_path, "plain", plain))


def test_hf_folder_is_used_as_it_is(tmp_path, tiny_hf):
    model = user_model_config(tmp_path, "my_qwen", tiny_hf["qwen2"])
    assert base_model_dir(model) == tiny_hf["qwen2"]
    assert base_gguf(model) is None  # the export writes its metadata from the merged folder


@pytest.mark.parametrize("family", FAMILIES)
def test_gguf_converts_once_into_the_same_model(family, tmp_path, tiny_hf, tiny_gguf, clean_models_cache):
    """GGUF → Hugging Face folder: same weights (F16 rounding), Llama 3's rotary scaling recovered from the
    `rope_freqs` tensor, the same chat template, and llama.cpp tokenizing like the converted tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    model_cfg = user_model_config(tmp_path, f"my_{family}", tiny_gguf[family]["ollama_blob"])
    assert base_gguf(model_cfg) == tiny_gguf[family]["ollama_blob"]
    converted = base_model_dir(model_cfg)
    marker = read_marker(converted)
    assert marker and marker["tokenization_mismatches"] == 0 and converted.parent == clean_models_cache / "models"
    assert marker["sha256"] in tiny_gguf[family]["ollama_blob"].name  # Ollama names blobs by their hash
    original = AutoModelForCausalLM.from_pretrained(str(tiny_hf[family]), dtype=torch.float32).state_dict()
    again = AutoModelForCausalLM.from_pretrained(str(converted), dtype=torch.float32).state_dict()
    assert set(original) == set(again)
    for name, tensor in original.items():  # F16 in the file: relative error ~1e-3
        assert torch.allclose(tensor, again[name], atol=2e-3 * float(tensor.abs().max()) + 1e-6), name
    cfg = AutoConfig.from_pretrained(str(converted))
    if family == "llama":
        assert cfg.rope_parameters["rope_type"] == "llama3"
        assert cfg.rope_parameters["original_max_position_embeddings"] == 32
    assert AutoTokenizer.from_pretrained(str(converted)).chat_template == \
        AutoTokenizer.from_pretrained(str(tiny_hf[family])).chat_template

    # once: the same file under another path (LM Studio's copy) is the same cache; a changed file is not
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    same = base_model_dir(user_model_config(tmp_path, f"my_{family}", tiny_gguf[family]["file"]))
    assert same == converted and (converted / "model.safetensors").stat().st_mtime_ns == stamp
    changed = tmp_path / "changed.gguf"
    shutil.copy(tiny_gguf[family]["file"], changed)
    with changed.open("ab") as fh:
        fh.write(b"\x00" * 32)  # padding after the tensor data: still a valid GGUF, another hash
    os.utime(changed)
    other = base_model_dir(user_model_config(tmp_path, f"my_{family}", changed))
    assert other != converted and read_marker(other)["sha256"] != marker["sha256"]
