"""ROUGE-L (and ROUGE-Lsum) as an `evaluate` metric module kept in the project.

`evaluate.load("rouge")` fetches its script from the hub, which is not reachable offline; loading this
folder by path (`evaluate.load(<dir>)`) works anywhere. The scores come from Google's `rouge_score`.
"""

import datasets
import evaluate
from rouge_score import rouge_scorer

_DESCRIPTION = "ROUGE-L F-measure (longest common subsequence) between predictions and references."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    use_stemmer: Porter-stem words before matching (default True).
Returns:
    rougeL, rougeLsum: mean F-measure in [0, 1].
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class TwinRouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Lin, 2004. ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, use_stemmer=True):
        scorer = rouge_scorer.RougeScorer(["rougeL", "rougeLsum"], use_stemmer=use_stemmer)
        scores = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
        if not scores:
            return {"rougeL": 0.0, "rougeLsum": 0.0}
        # Plain mean (deterministic), not rouge_score's bootstrap median.
        return {key: sum(s[key].fmeasure for s in scores) / len(scores) for key in ("rougeL", "rougeLsum")}
