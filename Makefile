# Two entry points a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint lock bench clean

# Two stamps: a changed lock (or pyproject) reinstalls. `make run` installs the runtime lock only;
# `make test` adds the dev lock (a superset with the same pins). Hashes are checked (--require-hashes).
$(STAMP): requirements/runtime.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements/dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.txt
	touch $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/getkey serve

# Four workers on CI's two cores on purpose: a test that only passes on an idle machine
# (a wait for "the first message" instead of the one it means) fails here, not later.
TEST_WORKERS ?= 4

test: $(DEV_STAMP)
	$(BIN)/ruff check bot flows tests bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check bot flows tests bench

bench: $(DEV_STAMP)
	$(BIN)/python bench/verify_latency.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/slash.py
	$(BIN)/python bench/submissions.py
	$(BIN)/python bench/sweep_e2e.py

# Regenerate requirements/*.txt and requirements.txt from pyproject.toml (pip-tools, hashed).
lock: $(DEV_STAMP)
	$(BIN)/python requirements/compile.py

clean:
	rm -rf $(VENV)
