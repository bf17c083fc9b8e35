"""Comparison plot (PNG) and a self-contained HTML report (the ZenML dashboard renders HTMLString)."""

from __future__ import annotations

import html
from pathlib import Path

from llm_twin.evaluation.gate import PromotionDecision
from llm_twin.evaluation.schemas import EvaluationReport
from llm_twin.training.plots import png_html

PLOT_METRICS = [
    ("perplexity", "held-out perplexity (lower is better)"),
    ("style_similarity", "style similarity"),
    ("embedding_similarity", "embedding similarity"),
    ("stylometry_similarity", "stylometry similarity"),
    ("attribution", "attributed to the author"),
    ("invented_link_rate", "invented links (lower is better)"),
    ("marker_leak_rate", "copied markers (lower is better)"),
    ("distinct_2", "distinct-2"),
    ("rouge_l", "ROUGE-L"),
]


def comparison_png(report: EvaluationReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = report.all()
    fig, axes = plt.subplots(2, (len(PLOT_METRICS) + 1) // 2, figsize=(3.0 * ((len(PLOT_METRICS) + 1) // 2), 6.4), dpi=100)
    axes = list(axes.flat)
    for extra in axes[len(PLOT_METRICS):]:
        extra.axis("off")
    colors = {"base": "#9e9e9e", "production": "#1f77b4", "candidate": "#2ca02c"}
    for ax, (key, title) in zip(axes, PLOT_METRICS):
        values = [float(getattr(m, key) or 0.0) for m in models]
        bars = ax.bar([m.label for m in models], values, color=[colors.get(m.label, "#888") for m in models])
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def html_report(report: EvaluationReport, decision: PromotionDecision | None, plot: Path | None) -> str:
    models = report.all()
    keys = list(models[0].metrics().keys())
    head = "".join(f"<th>{html.escape(m.label)}{' (' + html.escape(m.version) + ')' if m.version else ''}</th>" for m in models)
    rows = "".join(
        "<tr><td>" + k + "</td>" + "".join(f"<td>{m.metrics().get(k, float('nan')):.4g}</td>" for m in models) + "</tr>"
        for k in keys
    )
    parts = [
        "<html><body style='font-family: sans-serif; max-width: 1100px'>",
        "<h2>LLM Twin evaluation</h2>",
        (f"<p>held-out samples: {report.held_out_samples} · dataset hash {html.escape(report.dataset_hash[:12])} · "
        f"{report.duration_s:.0f} s</p>"),
        f"<table border='1' cellpadding='4' style='border-collapse: collapse'><tr><th>metric</th>{head}</tr>{rows}</table>",
    ]
    parts.append(_attribution_html(report))
    if decision is not None:
        verdict = f"PASSED → {decision.stage}" if decision.passed and decision.stage else ("PASSED" if decision.passed else "FAILED")
        parts.append(f"<h3>Promotion gate: {html.escape(verdict)}</h3><ul>")
        parts.extend(f"<li>{html.escape(r)}</li>" for r in decision.reasons)
        parts.append("</ul>")
    if plot is not None and Path(plot).is_file():
        parts.append(png_html(plot, "comparison"))
    parts.append("<h3>Sample generations</h3>")
    by_label = {m.label: m for m in models}
    candidate = report.candidate
    for i, sample in enumerate(candidate.samples[:6]):
        parts.append(f"<h4>{html.escape(sample['instruction'])}</h4><table border='1' cellpadding='4' style='border-collapse: collapse'>")
        parts.append(f"<tr><td><b>author</b></td><td><pre style='white-space: pre-wrap'>{html.escape(sample['reference'])}</pre></td></tr>")
        for label in ("candidate", "production", "base"):
            if label in by_label and i < len(by_label[label].samples):
                gen = by_label[label].samples[i]
                who = f"<br><small>attributed to {html.escape(gen['attributed_to'])}</small>" if gen.get("attributed_to") else ""
                parts.append(f"<tr><td><b>{label}</b>{who}</td><td><pre style='white-space: pre-wrap'>"
                             f"{html.escape(gen['generated'])}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _attribution_html(report: EvaluationReport) -> str:
    """Who the attribution model knows, how well it recognises the author's own held-out texts, and the
    candidate's gain over the base with its paired bootstrap interval."""
    a = report.attribution
    if a is None:
        return "<p>attribution: not measured (evaluation.attribution.enabled=false)</p>"
    shares = "".join(
        f"<li>{html.escape(m.label)}: {m.attribution:.2f} "
        f"[{m.attribution_low or 0:.2f}, {m.attribution_high or 0:.2f}]</li>"
        for m in report.all() if m.attribution is not None
    )
    known = ", ".join(f"{html.escape(n)} ({a.train_windows.get(n, 0)} windows)" for n in a.authors)
    own = f"{a.reference_attribution:.2f}" if a.reference_attribution is not None else "-"
    gain = (f"<p>candidate − base: {a.gain:+.2f}, {a.confidence:.0%} paired bootstrap interval "
            f"[{a.gain_low:+.2f}, {a.gain_high:+.2f}]</p>" if a.gain is not None else "")
    return (f"<h3>Authorship attribution (target: {html.escape(a.target)})</h3>"
            f"<p>fitted on: {known}; the author's own held-out texts attributed to them: {own}</p>"
            f"<p>share of generations attributed to the author ({a.confidence:.0%} bootstrap interval):</p>"
            f"<ul>{shares}</ul>{gain}")
