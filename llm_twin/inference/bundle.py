"""Package a served twin: the bundle folder, the BentoML model-store entries and the bento.

Layout of a bundle (also what the service's `bundle_dir` argument serves in development):
    model/  twin.gguf, served_model.json, runtime.json, Modelfile (Ollama)  → BentoML model `llm_twin_gguf`
    index/  qdrant/ (a copy of the local Qdrant folder)                      → BentoML model `llm_twin_index`
With a Qdrant server (`infra.qdrant_url`) the index model is empty and the service uses the live store.
`BENTOML_HOME` defaults to `.twin/bentoml`, outside the folder being built (the venv's activate script
exports the same path, so `bentoml serve llm_twin:latest` finds the last deployed twin).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from pydantic import BaseModel

from llm_twin.config.serving import BentoConfig
from llm_twin.inference.export import REPORT_FILE, SERVED_FILE, SERVED_HF_DIR
from llm_twin.inference.ollama import MODELFILE, write_modelfile
from llm_twin.inference.runtime import RuntimeConfig
from llm_twin.inference.service_args import ServiceArgs
from llm_twin.paths import PROJECT_ROOT, state_dir

log = logging.getLogger(__name__)

BENTO_SRC = PROJECT_ROOT / "bentos"


class BentoBuild(BaseModel):
    bento_tag: str
    gguf_model_tag: str
    index_model_tag: str
    bentoml_home: str
    serve_command: str


def bentoml_home(settings: BentoConfig | None = None) -> Path:
    home = Path(settings.home) if settings and settings.home else state_dir("bentoml")
    home.mkdir(parents=True, exist_ok=True)
    return home.resolve()


def configure_bentoml_env(settings: BentoConfig | None = None) -> Path:
    """Must run before bentoml is imported: it reads BENTOML_HOME once."""
    home = bentoml_home(settings)
    os.environ["BENTOML_HOME"] = str(home)
    os.environ["BENTOML_DO_NOT_TRACK"] = "true"
    return home


def copy_qdrant_folder(src: Path, dst: Path) -> Path:
    """Copy a local Qdrant folder without its lock file (the copy is opened by another process)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"), dirs_exist_ok=True)
    return dst


def write_bundle(out_dir: Path, served_dir: Path, runtime: RuntimeConfig, qdrant_path: Path | None,
                 live_store: bool = False) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model = out_dir / "model"
    index = out_dir / "index"
    model.mkdir(parents=True)
    index.mkdir(parents=True)
    if runtime.serving.backend == "llama_cpp" and (Path(served_dir) / SERVED_FILE).is_file():
        modelfile = write_modelfile(Path(served_dir) / SERVED_FILE, runtime)  # beside the served GGUF
        log.info("Ollama Modelfile: %s (cd %s && ollama create twin -f Modelfile)", modelfile, modelfile.parent)
    for name in (SERVED_FILE, REPORT_FILE, MODELFILE):
        if (Path(served_dir) / name).is_file():
            shutil.copy2(Path(served_dir) / name, model / name)
    if runtime.serving.backend == "transformers_bnb":
        if not (Path(served_dir) / SERVED_HF_DIR / "config.json").is_file():
            raise FileNotFoundError(f"{served_dir}/{SERVED_HF_DIR} is missing: run the deploy export first")
        shutil.copytree(Path(served_dir) / SERVED_HF_DIR, model / SERVED_HF_DIR)
    elif not (model / SERVED_FILE).is_file():
        raise FileNotFoundError(f"{served_dir}/{SERVED_FILE} is missing: run the export first")
    runtime.write(model)
    if not live_store and qdrant_path is not None and Path(qdrant_path).is_dir():
        copy_qdrant_folder(Path(qdrant_path), index / "qdrant")
    (index / "README").write_text(
        "live store: the service uses the Qdrant server of its infra config\n" if live_store
        else "snapshot of the local Qdrant index\n"
    )
    return out_dir


def save_models(bundle_dir: Path, settings: BentoConfig, model_version: str) -> tuple[str, str]:
    """Copy the bundle's two folders into the BentoML model store; returns the two tags."""
    import bentoml

    tags = []
    for name, sub in ((settings.gguf_model, "model"), (settings.index_model, "index")):
        with bentoml.models.create(name, labels={"llm_twin_version": model_version},
                                   metadata={"source": str(bundle_dir / sub)}) as model:
            shutil.copytree(bundle_dir / sub, model.path, dirs_exist_ok=True)
        tags.append(str(model.tag))
    return tags[0], tags[1]


def stage_build_context(dst: Path) -> Path:
    """The folder `bentoml build` packages: bentos/ plus a copy of the `llm_twin` package, so the bento
    runs without the project checkout."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(BENTO_SRC, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(PROJECT_ROOT / "llm_twin", dst / "llm_twin", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def build_bento(bundle_dir: Path, settings: BentoConfig, model_version: str) -> BentoBuild:
    home = configure_bentoml_env(settings)
    import bentoml

    gguf_tag, index_tag = save_models(bundle_dir, settings, model_version)
    ctx = stage_build_context(state_dir("bento_build") / settings.name)
    # Pin the exact model versions just saved: the service's arguments are stored in the bento.
    args = ServiceArgs(gguf_model=gguf_tag, index_model=index_tag)
    bento = bentoml.bentos.build_bentofile(build_ctx=str(ctx), bentofile=str(ctx / "bentofile.yaml"),
                                           version=_bento_version(model_version),
                                           args=args.model_dump(exclude_none=True))
    tag = str(bento.tag)
    log.info("built bento %s", tag)
    return BentoBuild(bento_tag=tag, gguf_model_tag=gguf_tag, index_model_tag=index_tag, bentoml_home=str(home),
                      serve_command=serve_command(tag, home))


def serve_command(tag: str, home: Path) -> str:
    """How to serve a built bento: on loopback (the service refuses other interfaces without an API key)."""
    return f"BENTOML_HOME={home} BENTOML_DO_NOT_TRACK=true bentoml serve {tag} --host 127.0.0.1 --port 3000"


def served_dirs(bundle_dir: str | None = None, gguf_model: str | None = None,
                index_model: str | None = None) -> tuple[Path, Path | None]:
    """(model folder, index folder) of a bundle folder or of BentoML model-store tags.

    Raises FileNotFoundError naming what is missing; an index of None means "keep the one served"."""
    if bundle_dir is not None:
        root = Path(bundle_dir).expanduser()
        if not (root / "model").is_dir():
            raise FileNotFoundError(f"{root} is not a bundle folder (no model/ inside)")
        return root / "model", root / "index"
    if gguf_model is None:
        raise ValueError("give a bundle_dir or a gguf_model tag")
    return model_store_path(gguf_model), model_store_path(index_model) if index_model else None


def model_store_path(tag: str) -> Path:
    import bentoml
    from bentoml.exceptions import BentoMLException

    try:
        return Path(bentoml.models.get(tag).path)
    except (BentoMLException, ValueError) as exc:
        home = os.environ.get("BENTOML_HOME", "~/bentoml")
        raise FileNotFoundError(f"no BentoML model {tag!r} in the model store ({home}): {exc}") from exc


def _bento_version(model_version: str) -> str | None:
    import re
    import uuid

    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", model_version).strip("-.") or "v"
    return f"{safe}-{uuid.uuid4().hex[:8]}"


def main(argv: list[str] | None = None) -> int:
    """`python -m llm_twin.inference.bundle +bundle_dir=PATH [+version=V] [serving.bento.home=DIR]`: build a
    bento from a bundle folder and print the BentoBuild as JSON. Its own process, so BENTOML_HOME applies."""
    import sys

    from llm_twin.config import ServingConfig, compose

    cfg = compose(sys.argv[1:] if argv is None else argv)
    if "bundle_dir" not in cfg:
        print("error: name the bundle folder: +bundle_dir=PATH", file=sys.stderr)
        return 2
    serving = ServingConfig.of(cfg.serving)
    build = build_bento(Path(cfg.bundle_dir), serving.bento, str(cfg.get("version", "dev")))
    print(build.model_dump_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
