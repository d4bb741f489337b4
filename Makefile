# genlab: two commands for a fresh machine.
#   make demo   create .venv, install genlab (torch 2.14.1 + torchvision 0.29.1), run the quick tour (runs/tour/index.html)
#   make test   the whole test suite (fast unit tier + slow tier that trains tiny models for real steps)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.genlab-installed
TORCH  := torch==2.14.1 torchvision==0.29.1
DEMO   := runs/demo

.PHONY: demo test test-fast test-slow bench install system-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/genlab tour --out runs/tour --budget quick
	@echo
	@echo "open $(CURDIR)/runs/tour/index.html in a browser (every figure, its command and its number);"
	@echo "then play with the runs: $(BIN)/genlab app --runs-dir runs/tour"

system-deps:
	@scripts/system-deps

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/vae_mnist.py

clean:
	rm -rf $(VENV) runs .pytest_cache
