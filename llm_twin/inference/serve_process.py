"""Run `bentoml serve <bento>` as a subprocess and wait until it is ready (tests and the benchmark)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LLM_TWIN_API_KEY"}
    env.update(BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="true", HF_HUB_OFFLINE="1")
    return env


@contextlib.contextmanager
def bentoml_serve(bento_tag: str, home: Path, port: int | None = None, ready_timeout_s: float = 180,
                  env: dict[str, str] | None = None, host: str | None = "127.0.0.1") -> Iterator[str]:
    """Yield the base URL (on 127.0.0.1) of a ready server; terminate its whole process group on exit.

    `host=None` leaves the bind address to the service (127.0.0.1 unless configured otherwise)."""
    port = port or free_port()
    log_path = Path(home) / f"serve-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(serve_argv(bento_tag, port, host),
                                cwd=str(home), env=env or clean_env(Path(home)), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + ready_timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"bentoml serve exited:\n{log_path.read_text()[-3000:]}")
                try:
                    if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.time() > deadline:
                    raise RuntimeError(f"bentoml serve not ready after {ready_timeout_s}s:\n{log_path.read_text()[-3000:]}")
                time.sleep(1)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


def serve_argv(bento_tag: str, port: int, host: str | None = "127.0.0.1") -> list[str]:
    cli = os.path.join(os.path.dirname(sys.executable), "bentoml")
    return [cli, "serve", bento_tag, "--port", str(port), *(["--host", host] if host else [])]


def build_in_subprocess(bundle_dir: Path, home: Path, version: str, cwd: Path) -> dict:
    """`python -m llm_twin.inference.bundle` in a fresh process (BENTOML_HOME is read once per process)."""
    import json

    proc = subprocess.run([sys.executable, "-m", "llm_twin.inference.bundle", f"+bundle_dir={bundle_dir}",
                           f"+version={version}", f"serving.bento.home={home}"], cwd=cwd, env=clean_env(home),
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bento build failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
