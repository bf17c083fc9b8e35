"""The continuous twin: an accepted model version deploys itself, and new content leads to a new candidate.

- `process`: the long-running release process (`python run.py pipeline=release`): polls the Model
  Control Plane for the served stage of `llm_twin`, deploys that version with the same command as
  `pipeline=deploy` and moves the running service to it (`POST /admin/reload`: no downtime).
- `trigger`: the retraining policy (new or changed warehouse documents since the production version's
  dataset) that starts `pipeline=train`.
- `rollback`: put the previous production version back in service (`python run.py pipeline=rollback`).
- `status`: the status file (what is served, the last deploy and its error, decisions).
"""
