"""Error bars for evaluation sets of a few hundred questions."""

from eval_intervals.bootstrap import bootstrap_interval, paired_difference
from eval_intervals.kappa import cohen_kappa

__all__ = ["bootstrap_interval", "cohen_kappa", "paired_difference"]
