# Everything a fresh machine with python3 (3.11+) and make needs.
#   make demo           run the demo (DEMO_ARGS="--seconds 120", "--resume latest", ...)
#   make test           lint, type-check, test and build the docs on .venv (all extras)
#   make docs           build the user guide into site/ (.venv/bin/mkdocs serve: live)
#   make test-pythons   the torch-free tests on Python 3.12 and 3.13, where pyenv has them

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_INSTALL := -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint typecheck pytest docs test-pythons venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "pamiq-core needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL) -e '.[torch,gym,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m samples.demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/pyright

pytest: $(STAMP)
	$(BIN)/pytest

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck pytest docs

test-pythons:
	PYTHON=$(PYTHON) scripts/test-pythons.sh

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .ruff_cache site
