"""Pipelines against a ZenML server: the local server that `zenml login --local` starts (the same server a team
deploys), in a temporary ZenML state folder, offline, analytics off. A pipeline runs through run.py with the
client connected to it, and the run, its metadata, its summary artifact and the model version are read back
through the server (the client's REST store, and the server's HTTP API itself). The server is stopped in the
teardown (`zenml logout --local`), and its process is gone before the test ends."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from llm_twin.infra.processes import free_port
from llm_twin.paths import PROJECT_ROOT

pytestmark = [pytest.mark.services, pytest.mark.slow]
ZENML = str(Path(sys.executable).with_name("zenml"))
MODEL = "twin_server_check"

READ_BACK = """
import json, sys
from llm_twin.zenml_env import configure_zenml_env
configure_zenml_env()
from zenml.client import Client
client = Client()
run = client.get_pipeline_run(sys.argv[1])
version = client.get_model_version(sys.argv[2], "latest")
summary = run.steps["summarize_collection"]
print(json.dumps({
    "store": str(client.zen_store.type.value), "url": client.zen_store.url,
    "run": {"name": run.name, "status": str(run.status.value), "metadata": sorted(run.run_metadata),
            "model": [run.model_version.model.name, run.model_version.number] if run.model_version else None},
    "counts": summary.run_metadata["counts"], "summary": summary.outputs["etl_summary"][0].load(),
    "version": {"model": version.model.name, "number": version.number,
                "runs": [r.name for r in client.list_pipeline_runs(model_version_id=version.id).items]},
}))
"""


def _run(env: dict[str, str], *args: str, timeout: int = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def _server_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _wait_gone(pid: int | None, seconds: float = 60.0) -> bool:
    """Wait for the server process to end (`zenml logout --local` signals it and removes its files at once);
    end it if it does not. True if it ended by itself."""
    if pid is None:
        return True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)  # the server this fixture started (its pid from its own pid file)
    return False


@pytest.fixture
def zenml_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`zenml login --local` on a free port with its state in `tmp_path`; `zenml logout --local` afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env.update(ZENML_CONFIG_PATH=str(tmp_path / "zenml"), ZENML_ANALYTICS_OPT_IN="false",
               ZENML_AUTO_OPEN_DASHBOARD="false", ZENML_ENABLE_RICH_TRACEBACK="false",
               LLM_TWIN_HOME=str(tmp_path / "twin"))
    port = free_port()
    pid_file = tmp_path / "zenml" / "zen_server" / "daemon" / "service.pid"
    started = _run(env, ZENML, "login", "--local", "--port", str(port))
    pid = _server_pid(pid_file)
    try:
        assert started.returncode == 0 and pid is not None, started.stdout[-3000:] + started.stderr[-3000:]
        yield {**env, "SERVER_URL": f"http://127.0.0.1:{port}"}
    finally:
        stopped = _run(env, ZENML, "logout", "--local", timeout=120)
        ended = _wait_gone(pid)
        assert stopped.returncode == 0 and ended, stopped.stdout[-2000:] + stopped.stderr[-2000:]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/health", timeout=3)


def test_pipeline_runs_against_the_server_and_reads_back_through_it(zenml_server: dict[str, str]) -> None:
    env = {k: v for k, v in zenml_server.items() if k != "SERVER_URL"}
    url = zenml_server["SERVER_URL"]
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
    try:
        result = _run(env, sys.executable, "run.py", "pipeline=etl", f"infra.mongo_port={free_port()}",
                      f"pipeline.model={{name:{MODEL},version:null,description:null,tags:[server-test]}}")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        found = re.search(r"^run (etl-\S+): completed", result.stdout, re.MULTILINE)
        assert found, result.stdout[-2000:]
        run_name = found.group(1)

        back = _run(env, sys.executable, "-c", READ_BACK, run_name, MODEL, timeout=120)
        assert back.returncode == 0, back.stderr[-3000:]
        data = json.loads(back.stdout.strip().splitlines()[-1])
    finally:
        _run(env, sys.executable, "-m", "llm_twin.infra", "stop", timeout=120)

    assert (data["store"], data["url"]) == ("rest", url)  # the client talked to the server, not a local database
    assert data["run"] == {"name": run_name, "status": "completed", "metadata": ["hydra_config"], "model": [MODEL, 1]}
    assert data["counts"] == {"new": 47, "updated": 0, "unchanged": 0, "failed": 0}
    assert "Collection summary for Maya Lindqvist" in data["summary"]
    assert data["version"] == {"model": MODEL, "number": 1, "runs": [run_name]}

    # the same run through the server's own HTTP API (the local server needs no login)
    runs = requests.get(f"{url}/api/v1/runs", params={"name": run_name}, timeout=30)
    assert runs.status_code == 200, runs.text[:500]
    assert [r["name"] for r in runs.json()["items"]] == [run_name]
    versions = requests.get(f"{url}/api/v1/model_versions", params={"number": 1}, timeout=30).json()["items"]
    assert any(v["name"] == "1" for v in versions)
