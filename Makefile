# Two commands on a fresh machine: `make run` and `make test`. Needs only python3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MYPY_TARGETS := protocols signing dispatcher/domain
RUN_DIR ?= var/county

.PHONY: run test lint typecheck unit bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy $(MYPY_TARGETS)

test: lint typecheck
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

run: $(STAMP)
	$(VENV)/bin/ebc demo --dir $(RUN_DIR)

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
