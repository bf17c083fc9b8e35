"""The long-running stream app under a supervisor: a failed app is started again, with a reconciliation.

A broker that restarts without its topics makes the Quix Source's produce flush time out
(`CheckpointProducerTimeout`) and ends the app; tearing down a Kafka client against a dead broker can
even crash the process natively. So the app runs as a child process, and whatever ends it other than a stop
(an exception, a signal, a segfault) is a failure: the supervisor backs off (`stream.restart_backoff_s`,
doubling, at most 60 s) and starts it again with `stream.reconcile=true`, which re-publishes whatever the
broker lost. `stream.max_restarts` failures in a row (a run of `stream.healthy_run_s` resets the count) end
the supervisor with the child's status, for systemd or Kubernetes to see.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from llm_twin.config.stream import StreamConfig

log = logging.getLogger(__name__)
UNSUPERVISED = "stream.supervise=false"


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def supervise(argv: list[str], stream: StreamConfig) -> int:
    """Run `python -m llm_twin.streaming <argv>` until it stops cleanly or fails too often in a row."""
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    failures, extra = 0, list[str]()
    try:
        while True:
            child = subprocess.Popen([sys.executable, "-m", "llm_twin.streaming", *argv, *extra, UNSUPERVISED])
            started = time.monotonic()
            returncode = child.wait()
            if returncode == 0 or stopping.is_set():
                return returncode
            failures = 1 if time.monotonic() - started >= stream.healthy_run_s else failures + 1
            if failures > stream.max_restarts:
                log.error("the stream app failed %d times in a row (last: %s); giving up", failures,
                          describe(returncode))
                return returncode if returncode > 0 else 1
            backoff = min(stream.restart_backoff_s * 2 ** (failures - 1), 60.0)
            log.warning("the stream app stopped (%s); restarting in %.0f s with a reconciliation "
                        "(failure %d of at most %d in a row)", describe(returncode), backoff, failures,
                        stream.max_restarts)
            if stopping.wait(backoff):
                return 0
            extra = ["stream.reconcile=true"]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
