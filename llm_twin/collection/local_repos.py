"""Publish a plain code folder as a local git repository, so the repository crawler can clone it.

A git repository cannot live inside this project's own repository, so sample (and user) code is kept as
a plain folder and turned into a real repository under `.twin/repos/` at run time; the crawler then
does exactly what it does for GitHub: `git clone --depth 1 file://...` and the same file walk.
The repository is rebuilt on each run from the folder, so an edit of the folder shows up as an update.
A folder that already is a git repository is published as a shallow clone of its current commit: the
crawler clones `file://` URLs only from under `.twin/repos` (its address policy), so nothing outside
that folder is ever read through a link.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from llm_twin.crawlers.errors import CollectError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "llm-twin",
    "GIT_AUTHOR_EMAIL": "llm-twin@localhost",
    "GIT_COMMITTER_NAME": "llm-twin",
    "GIT_COMMITTER_EMAIL": "llm-twin@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def _git(args: list[str], cwd: Path) -> None:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}  # no user/global git config leaks in
    proc = subprocess.run(["git", *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise CollectError("git", f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()[-300:]}")


def make_git_repository(source: Path, dest: Path) -> Path:
    """Copy `source` (without any .git) to `dest` and commit it as one commit on branch `main`."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"))
    _git(["init", "-q", "-b", "main"], dest)
    _git(["add", "-A"], dest)
    _git(["-c", "commit.gpgsign=false", "commit", "-q", "-m", f"Import {source.name}"], dest)
    return dest


def mirror_git_repository(source: Path, dest: Path) -> Path:
    """A shallow clone of the git repository `source` (its checked-out commit) at `dest`."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(["clone", "--quiet", "--depth", "1", "--no-tags", source.as_uri(), str(dest)], dest.parent)
    return dest


def publish_local_repository(folder: Path, publish_root: Path) -> str:
    """`file://` clone URL of a git repository under `publish_root` holding the folder's files."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise CollectError("not_found", f"repository folder {folder} does not exist")
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:8]
    dest = publish_root / f"{folder.name}-{digest}"
    if (folder / ".git").exists():
        return mirror_git_repository(folder, dest).as_uri()
    return make_git_repository(folder, dest).as_uri()
