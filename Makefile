# edgeprune: every target sets up what it needs first (venv, packages, data, browser, sshd).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
EP := $(VENV)/bin/edgeprune
STAMP := $(VENV)/.edgeprune-setup
RECIPE ?= recipes/fashionmnist.toml
RUN ?= runs/$(basename $(notdir $(RECIPE)))
PYTEST_ARGS ?=

.PHONY: setup test test-zoo lint prune-export-bench report deploy-web deploy-device bench-save bench-regress arm-smoke clean

setup: $(STAMP)

# Python packages (torch and torchvision come from this machine's disk), then the system pieces
# (scripts/setup-*.sh: Fashion-MNIST for the default recipe, the npm runtime for the web page, Chromium,
# sshd); each prints why it skipped anything, and fails the setup only for what EDGEPRUNE_REQUIRE names.
$(STAMP): pyproject.toml $(wildcard scripts/setup-*.sh)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,web]'
	@for s in $(sort $(wildcard scripts/setup-*.sh)); do VENV=$(VENV) bash $$s || exit 1; done
	@touch $@

# The emulated ARM tests need a cached arm64 root (debootstrap, once, about a minute); when it cannot
# be built here (not root, no mirror) they are skipped with the reason, unless EDGEPRUNE_REQUIRE names
# arm (CI: .ci/run): then `make test` stops here with the reason.
test: setup
	@VENV=$(VENV) bash scripts/arm-smoke.sh --prepare || { req="$${EDGEPRUNE_REQUIRE:-}"; \
	  case ",$${req// /}," in *,arm,*) echo "arm-smoke: FAILED: EDGEPRUNE_REQUIRE=$$req requires the arm64 root (reason above)" >&2; exit 1;; esac; \
	  echo "arm-smoke: no arm64 root; tests/device/test_arm.py will be skipped"; }
	$(PY) -m pytest $(PYTEST_ARGS)

# Every torchvision classifier through train, checkpoint, prune, export and onnxruntime (about an hour on 2 cores).
test-zoo: setup
	EDGEPRUNE_ZOO=full $(PY) -m pytest tests/models/test_zoo.py $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check edgeprune tests

prune-export-bench: setup
	$(EP) pipeline $(RECIPE) --out $(RUN)

report: setup
	$(EP) pipeline $(RECIPE) --out $(RUN) --only report

deploy-web: setup
	$(EP) pipeline $(RECIPE) --out $(RUN) --only deploy-web

deploy-device: setup
	$(EP) pipeline $(RECIPE) --out $(RUN) --only deploy-device

# Latency regression on quiet, dedicated hardware: save a baseline once, compare later runs to it.
bench-save: setup
	$(PY) -m pytest tests/bench -m bench --benchmark-only --benchmark-save=baseline

bench-regress: setup
	$(PY) -m pytest tests/bench -m bench --benchmark-only --benchmark-compare --benchmark-compare-fail=median:15%

arm-smoke: setup
	bash scripts/arm-smoke.sh

clean:
	rm -rf $(VENV) runs build dist *.egg-info .pytest_cache .benchmarks test-artifacts
