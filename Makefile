# The two commands of the README: `make up` starts everything, `make test` runs every test.
# Both install what is missing first (a .venv with dymunim editable, the executor's npm packages).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKER := cloudflare-worker
WEB := web
WEB_DIST := src/dymunim/web_dist/index.html

.PHONY: up test install lint typecheck test-worker test-web test-py bench clean migration-lock

install: $(VENV)/.installed $(WORKER)/node_modules/.installed $(WORKER)/dist/worker.js $(WEB_DIST)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(WORKER)/node_modules/.installed: $(WORKER)/package.json $(WORKER)/package-lock.json
	cd $(WORKER) && npm ci --no-audit --no-fund
	touch $@

$(WORKER)/dist/worker.js: $(WORKER)/node_modules/.installed $(wildcard $(WORKER)/src/*.ts)
	cd $(WORKER) && npm run build

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

# Rebuilt when any UI source changes (the built files are served by the Python server).
$(WEB_DIST): $(WEB)/node_modules/.installed $(shell find $(WEB)/src $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/public -type f 2>/dev/null)
	cd $(WEB) && npm run build

up: install
	$(BIN)/dymunim up

# A new migration goes into src/dymunim/db/migrations/SHA256SUMS (appended; released lines never change).
migration-lock: $(VENV)/.installed
	$(BIN)/python -m dymunim.db.migration_lock

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The web client's types come from the server's OpenAPI document: `dymunim openapi` writes it from the
# app itself (no server), openapi-typescript turns it into web/src/lib/api.gen.ts; both are checked in.
# `make api-client` regenerates both after a route or model changes; `make api-client-check` (part of
# test-web) fails when a checked-in file differs from a fresh generation.
API_DOC := $(WEB)/openapi.json
.PHONY: api-client api-client-check

api-client: $(VENV)/.installed $(WEB)/node_modules/.installed
	$(BIN)/dymunim openapi --out $(API_DOC)
	cd $(WEB) && npm run --silent gen:api

api-client-check: $(VENV)/.installed $(WEB)/node_modules/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/dymunim openapi --out "$$tmp/openapi.json" && \
	  if ! diff -u $(API_DOC) "$$tmp/openapi.json" > "$$tmp/diff"; then \
	    head -n 80 "$$tmp/diff"; \
	    echo "$(API_DOC) differs from the server's OpenAPI document: run 'make api-client' and commit" \
	      "$(API_DOC) and $(WEB)/src/lib/api.gen.ts" >&2; exit 1; \
	  fi && \
	  if ! (cd $(WEB) && npm run --silent check:api) > "$$tmp/check" 2>&1; then \
	    cat "$$tmp/check"; \
	    echo "$(WEB)/src/lib/api.gen.ts differs from what $(API_DOC) generates: run 'make api-client' and commit" >&2; \
	    exit 1; \
	  fi

test-worker: install
	cd $(WORKER) && npm run typecheck && npm test

test-web: install api-client-check
	cd $(WEB) && npm run typecheck && npm test

# The browser tests drive Debian's chromium (never a downloaded browser): install it when missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
	  echo "Debian's chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests need it)" >&2; exit 1; \
	fi

test-py: install $(CHROMIUM)
	$(BIN)/pytest -q

test: lint test-worker test-web test-py

bench: install
	$(BIN)/python bench/executor.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/metrics.py

clean:
	rm -rf $(VENV) $(WORKER)/node_modules $(WORKER)/dist $(WEB)/node_modules src/dymunim/web_dist .dymunim
