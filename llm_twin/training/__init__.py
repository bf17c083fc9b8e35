"""Training: instruct/preference datasets from the feature store, QLoRA SFT (+ optional DPO), merging,
experiment tracking and the Model Control Plane registry.

Everything here is plain Python (no ZenML import at module level), so it is testable without a
pipeline; `steps/dataset.py` and `steps/training.py` are thin wrappers.
"""
