from recall_harness import mean_reciprocal_rank, recall_at_k, reciprocal_rank_fusion


def test_recall_at_k():
    assert recall_at_k(["a", "b", "c"], {"a", "z"}, k=2) == 0.5


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([["bm25-hit", "both"], ["dense-hit", "both"]])
    assert fused[0] == "both"


def test_mrr():
    assert mean_reciprocal_rank([(["x", "a"], {"a"}), (["b"], {"b"})]) == 0.75
