"""Evaluation: perplexity, ROUGE-L/BLEU (project-local `evaluate` modules), style similarity, optional
LLM judge, comparison report and the promotion gate. Plain Python; `steps/evaluation.py` wraps it."""
