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

test-worker: install
	cd $(WORKER) && npm run typecheck && npm test

test-web: install
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
