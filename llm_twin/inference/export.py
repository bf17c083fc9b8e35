"""Turn a merged twin (HF safetensors folder) into the served GGUF, choosing the quantization by
measurement, and write a `served_model.json` report next to it.

Steps: F32 GGUF export → perplexity check against the PyTorch model on the same tokens (a wrong export
fails here) → quantize each candidate → keep those within the perplexity tolerance → fastest, then
smallest. Used by the deploy step and the benchmark.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from pydantic import BaseModel

from llm_twin.config.serving import QuantizationConfig
from llm_twin.inference.gguf_export import ExportError, export_gguf
from llm_twin.inference.selection import Candidate, choose, evaluate_candidates
from llm_twin.models.perplexity import gguf_perplexity, token_windows, torch_perplexity

log = logging.getLogger(__name__)

SERVED_FILE = "twin.gguf"
SERVED_HF_DIR = "hf"  # the bitsandbytes backend serves the merged HF folder
REPORT_FILE = "served_model.json"


class ServedModelReport(BaseModel):
    """What deploy packaged and what it measured. `gguf_path` is the served artifact: the GGUF file for
    llama.cpp, or the merged HF folder (`hf/`) for the bitsandbytes backend of GPU stacks, whose
    quantization happens at load time on the GPU: the CPU measurements are then not taken (None)."""

    model_version: str
    source_dir: str
    gguf_path: str
    qtype: str
    size_mb: float
    tokens_per_s: float | None
    pytorch_perplexity: float | None
    f32_gguf_perplexity: float | None
    served_perplexity: float | None
    perplexity_ratio: float | None
    heldout_tokens: int
    heldout_source: str
    candidates: list[Candidate]
    seconds: float


def build_served_gguf(
    merged_dir: Path,
    base_gguf: Path | None,
    out_dir: Path,
    texts: list[str],
    settings: QuantizationConfig,
    model_version: str = "unversioned",
    heldout_source: str = "explicit",
) -> ServedModelReport:
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    windows = token_windows(merged_dir, texts, settings.window_tokens, settings.max_windows)

    f32 = export_gguf(merged_dir, base_gguf, out_dir / "twin-f32.gguf", "f32")
    reference = torch_perplexity(merged_dir, windows)
    exported = gguf_perplexity(f32, windows)
    drift = abs(exported.perplexity / reference.perplexity - 1)
    if drift > settings.export_tolerance:
        raise ExportError(
            f"GGUF export is wrong: perplexity {exported.perplexity:.3f} vs PyTorch {reference.perplexity:.3f} "
            f"({drift * 100:.2f}% > {settings.export_tolerance * 100:.2f}%)"
        )

    candidates = evaluate_candidates(
        f32, out_dir, settings.candidates, windows, reference.perplexity, settings.tolerance
    )
    best = choose(candidates, settings.speed_margin)
    served = out_dir / SERVED_FILE
    Path(best.path).replace(served)
    for cand in candidates:  # only the chosen file is kept (and packaged into the bento)
        if cand is not best:
            Path(cand.path).unlink(missing_ok=True)
    if not settings.keep_f32:
        f32.unlink(missing_ok=True)

    report = ServedModelReport(
        model_version=model_version, source_dir=str(merged_dir), gguf_path=str(served), qtype=best.qtype,
        size_mb=best.size_mb, tokens_per_s=best.tokens_per_s, pytorch_perplexity=round(reference.perplexity, 4),
        f32_gguf_perplexity=round(exported.perplexity, 4), served_perplexity=best.perplexity,
        perplexity_ratio=best.perplexity_ratio, heldout_tokens=reference.tokens, heldout_source=heldout_source,
        candidates=candidates, seconds=round(time.perf_counter() - t0, 1),
    )
    (out_dir / REPORT_FILE).write_text(report.model_dump_json(indent=2))
    log.info("served model: %s %s (%.0f MB, ppl x%.3f)", best.qtype, served, best.size_mb, best.perplexity_ratio)
    return report


def read_report(model_dir: Path) -> ServedModelReport:
    return ServedModelReport.model_validate(json.loads((Path(model_dir) / REPORT_FILE).read_text()))
