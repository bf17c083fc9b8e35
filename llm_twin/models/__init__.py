"""Model utilities shared by training, evaluation and inference: base model resolution, loading,
greedy generation, perplexity, CPU threads, and the Model Control Plane registry of `llm_twin`."""
