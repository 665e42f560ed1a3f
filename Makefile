# Everything a fresh machine with python3 (3.11+) and make needs.
#   make demo           run the demo (DEMO_ARGS="--seconds 120", "--resume latest", ...)
#   make test           lint, type-check, test (with coverage) and build the docs on
#                       .venv (all extras)
#   make docs           build the user guide into site/ (.venv/bin/mkdocs serve: live)
#   make test-pythons   the torch-free tests on Python 3.12 and 3.13, where pyenv has them
#                       (less the few that do not depend on the interpreter)
# The browser tests drive Debian's Chromium; make test installs it with apt-get
# when it is missing (CHROMIUM=/path/to/chromium uses another binary).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_INSTALL := -m pip install --quiet --disable-pip-version-check -c constraints.txt
CHROMIUM ?= /usr/bin/chromium
export PAMIQ_CHROMIUM := $(CHROMIUM)

.PHONY: demo test lint typecheck pytest docs test-pythons venv clean chromium

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "pamiq-core needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL) -e '.[torch,gym,tensorboard,mlflow,ray,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m samples.demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/pyright

chromium:
	@scripts/install-chromium.sh "$(CHROMIUM)"

pytest: $(STAMP) chromium
	$(BIN)/pytest --cov --cov-report=term

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck pytest docs

test-pythons:
	PYTHON=$(PYTHON) scripts/test-pythons.sh

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .ruff_cache site .coverage .coverage.*
