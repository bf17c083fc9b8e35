"""The GPU stacks' deploy path: the merged HF folder is packaged and the service generates with
bitsandbytes 4-bit (bitsandbytes' CPU kernels let the real code path run here on SmolLM2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_transformers_bnb_deploy_packages_hf_folder_and_serves(base_model_dir: Path, sample_index: Path,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_twin.inference.bundle import write_bundle
    from llm_twin.inference.deploy import ResolvedModel, prepare_served_model
    from llm_twin.inference.engine import TwinEngine
    from llm_twin.inference.export import REPORT_FILE, SERVED_HF_DIR
    from tests.configs import configured
    from tests.inference.conftest import runtime_config

    monkeypatch.setenv("LLM_TWIN_HOME", str(tmp_path / "twin"))
    gpu_serving = {"backend": "transformers_bnb", "bnb_bits": 4, "n_ctx": 512}
    serving = configured("serving", **gpu_serving)
    model = ResolvedModel(path=str(base_model_dir), version="gpu-1", source="base")
    mistral = configured("model", name="mistral", gguf_package=None, gguf_file=None)
    report = prepare_served_model(model, mistral, serving, None, None)

    served_dir = Path(report.gguf_path).parent
    assert report.qtype == "bnb-4bit" and report.perplexity_ratio is None
    assert (served_dir / SERVED_HF_DIR / "config.json").is_file()
    assert json.loads((served_dir / REPORT_FILE).read_text())["model_version"] == "gpu-1"

    runtime = runtime_config("gpu-1", serving=gpu_serving)
    bundle = write_bundle(tmp_path / "bundle", served_dir, runtime, sample_index)
    assert (bundle / "model" / SERVED_HF_DIR / "model.safetensors").is_file()

    engine = TwinEngine(bundle / "model", bundle / "index")
    try:
        from llm_twin.inference.api import GenerateRequest

        response = engine.generate(GenerateRequest(instruction="Write a post about vector databases", max_new_tokens=6,
                                                   temperature=0.0))
    finally:
        engine.close()
    assert response.model_version == "gpu-1"
    assert 1 <= response.completion_tokens <= 6 and response.context


def test_bnb_bundle_without_hf_folder_is_refused(tmp_path: Path) -> None:
    from llm_twin.inference.bundle import write_bundle
    from tests.inference.conftest import runtime_config

    runtime = runtime_config("x", serving={"backend": "transformers_bnb"})
    with pytest.raises(FileNotFoundError, match="hf is missing"):
        write_bundle(tmp_path / "b", tmp_path, runtime, None)
