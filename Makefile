# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv with a Python >= 3.12 (scripts/find-python) and installs the package on first use.
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
PLUGINS  := $(wildcard plugins/*/pyproject.toml)
SOURCES  := mastertrade tests benchmarks $(wildcard plugins)

.PHONY: demo test lint bench clean

demo: $(STAMP)
	$(BIN)/mt demo

test: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site

bench: $(STAMP)
	$(BIN)/python -m benchmarks

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $$(scripts/find-python) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,ml,cluster]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build/site
