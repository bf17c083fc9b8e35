"""The architecture's rules, checked on the code: one place makes clients, and the allowed import
directions (import-linter contracts in pyproject.toml) hold."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from llm_twin.paths import PROJECT_ROOT

CLIENT_CLASSES = {"MongoClient", "QdrantClient", "AsyncQdrantClient", "BlockingConnection", "Application"}


def _constructed_clients(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLIENT_CLASSES:
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {name}(...)")
    return found


def test_only_the_connections_module_constructs_clients() -> None:
    offenders = []
    for path in sorted((PROJECT_ROOT / "llm_twin").rglob("*.py")):
        if path.name == "connections.py" and path.parent.name == "llm_twin":
            continue
        offenders += _constructed_clients(path)
    assert offenders == [], "build clients through llm_twin.connections.Connections"


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the dev dependencies (make setup)"
    result = subprocess.run([exe, "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout
