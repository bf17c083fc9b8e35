"""`python -m llm_twin.release status [--json]`: what the release process serves, its last attempt (and why it
failed), the versions it put in service and the last retraining decision. Run the process itself with
`python run.py pipeline=release`, a rollback with `python run.py pipeline=rollback`."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from llm_twin.release.status import StatusStore

    parser = argparse.ArgumentParser(prog="python -m llm_twin.release")
    parser.add_argument("command", choices=["status"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--state-file", default=None)
    args = parser.parse_args(argv)
    store = StatusStore(args.state_file)
    status = store.read()
    if args.json:
        print(json.dumps(status.model_dump(mode="json"), indent=2))
        return 0
    print(f"serving: {status.serving or '-'}   target: {status.target or '-'}   history: {' → '.join(status.history) or '-'}")
    attempt = status.last_attempt
    if attempt is not None:
        state = "ok" if attempt.ok else f"FAILED at {attempt.phase}: {attempt.error}"
        print(f"last release: {attempt.version} at {attempt.started_at} ({attempt.seconds:.1f} s): {state}")
    for version, error in status.failed.items():
        print(f"not retried while it holds the stage: {version}: {error}")
    if status.retrain:
        print(f"retraining: {'triggered' if status.retrain['triggered'] else 'not triggered'}: {status.retrain['reason']}")
    if status.training:
        print(f"training run: {json.dumps(status.training)}")
    print(f"status file: {store.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
