"""The served twin is private by default: `bentoml serve` binds 127.0.0.1 unless told otherwise, and a
non-loopback bind without an API key refuses to start, saying how to set one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> set[str]:
    psutil = pytest.importorskip("psutil")
    return {c.laddr.ip for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


def test_default_bind_is_loopback(served_bento):
    assert listening_addresses(served_bento["port"]) == {"127.0.0.1"}


def test_public_bind_without_key_refuses_to_start(built_bento):
    from llm_twin.inference.serve_process import clean_env, free_port, serve_argv

    home = Path(built_bento["home"])
    proc = subprocess.run(serve_argv(built_bento["bento_tag"], free_port(), "0.0.0.0"), cwd=home,
                          env=clean_env(home), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "refusing to serve the twin on 0.0.0.0 without an API key" in out
    assert "export LLM_TWIN_API_KEY=" in out
    assert "Traceback" not in out  # one clear line, not a stack


def test_public_bind_with_key_starts(served_bento_public):
    import requests

    assert requests.get(f"{served_bento_public['url']}/readyz", timeout=30).status_code == 200
    assert requests.post(f"{served_bento_public['url']}/info", json={}, timeout=30).status_code == 401
