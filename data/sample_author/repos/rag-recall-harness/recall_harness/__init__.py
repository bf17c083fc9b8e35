"""Retrieval evaluation: recall@k, MRR and reciprocal rank fusion."""

from recall_harness.metrics import mean_reciprocal_rank, recall_at_k, reciprocal_rank_fusion

__all__ = ["mean_reciprocal_rank", "recall_at_k", "reciprocal_rank_fusion"]
