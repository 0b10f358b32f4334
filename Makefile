# Datapolis: `make run` serves the demo city, `make test` checks everything.
# Every target installs what it needs first, idempotently (a fresh machine has only Python,
# Node/npm and the database services).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
VENDOR := build/vendor/.stamp
B ?=

.PHONY: install assets browser services run test lint typecheck pytest bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

# The peers benchmarks compare against (dlt, ConnectorX...): only `make bench` needs them.
$(VENV)/.bench-installed: pyproject.toml $(INSTALLED)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# Peers that need a virtual environment of their own (soda-core-duckdb pins DuckDB < 1.1):
# one per bench/peers/NAME.txt, every version pinned, rebuilt when its pins change.
PEER_VENVS := var/bench/venvs
PEERS := $(patsubst bench/peers/%.txt,$(PEER_VENVS)/%/.installed,$(wildcard bench/peers/*.txt))

$(PEER_VENVS)/%/.installed: bench/peers/%.txt
	$(PYTHON) -m venv --clear $(PEER_VENVS)/$*
	$(PEER_VENVS)/$*/bin/pip install --quiet --upgrade pip
	$(PEER_VENVS)/$*/bin/pip install --quiet -r $<
	touch $@

bench-peers: $(PEERS)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json $(INSTALLED)
	$(BIN)/python -m datapolis.web.assets
	touch $@

assets: $(VENDOR)

# Browser tests drive Debian's Chromium (never a downloaded browser); CJK fonts so pages render.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-cjk >/dev/null; \
	fi

# The local PostgreSQL and MariaDB, up and set for change data capture (idempotent).
services:
	scripts/db-services

# The demo's household register goes into the local PostgreSQL (when it is there) so that it
# streams by cdc; everything else is SQLite and files. DEMO_STREAM_SERVER= keeps it all local.
DEMO_STREAM_SERVER ?= postgresql://postgres@127.0.0.1:5432

run: install assets
	@scripts/db-services || echo "PostgreSQL/MariaDB could not be started; the demo stays in SQLite"
	$(BIN)/datapolis db upgrade
	$(BIN)/datapolis demo build --if-absent $(if $(DEMO_STREAM_SERVER),--stream-server $(DEMO_STREAM_SERVER))
	$(BIN)/datapolis demo land
	$(BIN)/datapolis serve

lint: install
	$(BIN)/ruff check datapolis tests bench

typecheck: install
	$(BIN)/mypy datapolis

# Two workers (the CI machine has two cores); a test file stays on one worker, so its
# module-scoped fixtures are built once.
pytest: install assets browser services
	$(BIN)/pytest -n 2 --dist loadfile

test: lint typecheck pytest

bench: $(VENV)/.bench-installed bench-peers assets services
	@set -e; for f in $(if $(B),bench/$(B).py,$(sort $(wildcard bench/[a-z]*.py))); do \
		echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
