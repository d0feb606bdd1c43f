# Two commands for a new machine (Linux, Python 3.11, registries only):
#   make run    install into .venv, then answer a question on the embedded default (no key, no server)
#   make test   install with the test extras (and Debian's Chromium for the browser test), run the suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUESTION ?= DDIM 相比 DDPM 采样快多少倍?
# The CPU build of torch: on these machines `torch==2.13.0` resolves to the local +cpu wheel.
# Elsewhere set TORCH_INDEX=--extra-index-url=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

.PHONY: install install-test install-bench run test browser-deps lint clean-index

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip takes the CPU torch wheel; uv (from PyPI) installs the rest about 3x faster than pip.
# Bytecode is compiled at install (pip does it by default, uv on request; ~20 s once): where
# PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every imported module from
# source on every start (`rag search` in a fresh process 1.3 s instead of 0.8 s).
# constraints.txt holds the versions the expected scores were measured with (embedder, tokenizer).
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q $(TORCH_INDEX) "torch==2.13.0" "uv>=0.9"
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -c constraints.txt -e . || $(BIN)/pip install -q -c constraints.txt -e .
	$(BIN)/python -m compileall -q rag ingest app.py > /dev/null
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -c constraints.txt -e ".[test]" || $(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $@

# The benchmark extra (LlamaIndex, LangChain, psutil): only for `python -m bench`. Copies, not
# uv's default hard links: nltk >= 3.10 refuses multiply-linked data files ("Security Violation
# [pathsec.open] ... st_nlink=2"), and LlamaIndex ships its nltk data inside llama-index-core.
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	UV_LINK_MODE=copy $(BIN)/uv pip install -q --python $(BIN)/python --reinstall-package llama-index-core -e ".[bench]" || $(BIN)/pip install -q -e ".[bench]"
	touch $@

install: $(VENV)/.installed

install-bench: $(VENV)/.installed-bench

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/rag ask "$(QUESTION)"

browser-deps:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }

test: install-test browser-deps
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean-index:
	rm -rf data/index
