# Two entry points a fresh machine needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/getkey serve

# Four workers on CI's two cores on purpose: a test that only passes on an idle machine
# (a wait for "the first message" instead of the one it means) fails here, not later.
TEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/ruff check bot flows tests bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q

lint: $(STAMP)
	$(BIN)/ruff check bot flows tests bench

bench: $(STAMP)
	$(BIN)/python bench/verify_latency.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/slash.py
	$(BIN)/python bench/submissions.py
	$(BIN)/python bench/sweep_e2e.py

lock:
	$(BIN)/pip freeze --all --exclude-editable | grep -v "^pip==" | sed '1i # Every dependency pinned (runtime and test). Regenerate: make lock' > requirements.lock

clean:
	rm -rf $(VENV)
