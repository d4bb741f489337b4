# genlab: two commands for a fresh machine.
#   make demo   create .venv, install genlab (torch 2.14.1 + torchvision 0.29.1), train a VAE on MNIST, write samples
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
	rm -rf $(DEMO)
	$(BIN)/genlab vae train --dataset mnist --epochs 3 --out $(DEMO)/vae-mnist
	$(BIN)/genlab vae sample $(DEMO)/vae-mnist --n 64 --output $(DEMO)/vae-mnist-samples.png
	$(BIN)/genlab vae train --dataset mnist --epochs 3 --latent-dim 2 --out $(DEMO)/vae-mnist-2d
	$(BIN)/genlab vae manifold $(DEMO)/vae-mnist-2d --output $(DEMO)/vae-mnist-manifold.png
	$(BIN)/genlab vae scatter $(DEMO)/vae-mnist-2d --output $(DEMO)/vae-mnist-scatter.png
	@echo
	@echo "demo outputs:"
	@echo "  $(DEMO)/vae-mnist-samples.png    64 samples of a 32-D VAE"
	@echo "  $(DEMO)/vae-mnist-manifold.png   the decoded 2-D latent plane"
	@echo "  $(DEMO)/vae-mnist-scatter.png    the test set in that plane, coloured by digit"
	@echo "  $(DEMO)/vae-mnist/               run folder: config.json, model.safetensors, metrics.jsonl, samples/, tensorboard/"

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
