"""Corpus BLEU (Papineni et al., 2002) as an `evaluate` metric module kept in the project.

Self-contained (no hub script, no sacrebleu): 13a-like tokenisation, clipped n-gram precisions up to
`max_order`, brevity penalty, optional add-one smoothing (Lin & Och, 2004) for short texts.
"""

import collections
import math
import re

import datasets
import evaluate

_DESCRIPTION = "Corpus-level BLEU between generated texts and one reference each."
_KWARGS = """
Args:
    predictions: list of generated texts.
    references: list of reference texts (one per prediction).
    max_order: highest n-gram order (default 4).
    smooth: add-one smoothing of the n-gram precisions (default True).
Returns:
    bleu (0..1), precisions, brevity_penalty, length_ratio, translation_length, reference_length.
"""

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _tokens(text):
    return _TOKEN.findall(text.lower())


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class TwinBleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Papineni et al., 2002. BLEU: a Method for Automatic Evaluation of Machine Translation.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, max_order=4, smooth=True):
        matches = [0] * max_order
        possible = [0] * max_order
        pred_len = ref_len = 0
        for pred, ref in zip(predictions, references):
            p, r = _tokens(pred), _tokens(ref)
            pred_len += len(p)
            ref_len += len(r)
            for n in range(1, max_order + 1):
                pn, rn = _ngrams(p, n), _ngrams(r, n)
                matches[n - 1] += sum((pn & rn).values())
                possible[n - 1] += max(len(p) - n + 1, 0)
        precisions = []
        for m, total in zip(matches, possible):
            if smooth:
                precisions.append((m + 1.0) / (total + 1.0))
            else:
                precisions.append(m / total if total else 0.0)
        if min(precisions) > 0:
            geo_mean = math.exp(sum(math.log(p) for p in precisions) / max_order)
        else:
            geo_mean = 0.0
        ratio = pred_len / ref_len if ref_len else 0.0
        bp = 1.0 if ratio > 1.0 else (math.exp(1 - 1 / ratio) if ratio > 0 else 0.0)
        return {
            "bleu": geo_mean * bp,
            "precisions": precisions,
            "brevity_penalty": bp,
            "length_ratio": ratio,
            "translation_length": pred_len,
            "reference_length": ref_len,
        }
