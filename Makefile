# Two commands matter: `make quickstart` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYSTEM_PYTHON ?= python3

.PHONY: setup system venv quickstart test test-full bench lint typecheck clean

setup: system venv

system:
	@bash scripts/install_system_packages.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first, pinned: a range would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[train,serve,dev]'
	touch $(STAMP)

quickstart: setup
	$(VENV)/bin/codeeval-rl quickstart --output runs/quickstart

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

test-full: setup
	CODEEVAL_FULL=1 $(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) bench/sandbox_throughput.py

lint: setup
	$(VENV)/bin/ruff check src tests bench

typecheck: setup
	$(VENV)/bin/mypy src/codeeval_rl

clean:
	rm -rf $(VENV) build dist *.egg-info runs
