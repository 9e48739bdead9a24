# One task runner for developers and CI. Every target creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK ?= requirements/dev.lock
JOBS ?= 2
STAMP := $(VENV)/.installed-$(notdir $(LOCK))

.PHONY: install demo test test-fast lint fmt bench lock clean

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): $(BIN)/uv $(LOCK) pyproject.toml
	$(BIN)/uv pip install --quiet -p $(BIN)/python -r $(LOCK)
	$(BIN)/uv pip install --quiet -p $(BIN)/python --no-deps -e .
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/maestro demo $(ARGS)

test: install
	$(BIN)/python -m pytest -q -ra -n $(JOBS) --dist loadfile $(ARGS)

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not slow and not browser" $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench:
	$(MAKE) install LOCK=requirements/bench.lock
	$(BIN)/maestro bench $(or $(SUITE),all) $(ARGS)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements/dev.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench -p 3.11 -o requirements/bench.lock -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
