# The two commands: `make run` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit bench up down status clean-data schemas system-deps system-tools console console-client

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Start Kafka, PostgreSQL, the API and the processors in the foreground, load demo data; Ctrl-C stops all.
run: $(STAMP) system-tools console
	$(BIN)/laowu up --demo

## The whole suite against real Kafka and PostgreSQL (started on free ports in a private temp dir).
test: $(STAMP) system-tools system-deps lint console
	$(BIN)/pytest -q -ra --durations=15

# Debian packages the suite drives as a person would: Chromium (+ CJK fonts, or Chinese renders as boxes)
# for the browser tests (Playwright drives /usr/bin/chromium; `playwright install` is never run, no browser is
# downloaded), LibreOffice for spreadsheets made the way clerks make them. Installed once, as root.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-calc-nogui
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages: $$missing (install them; the tests that need them will say so)"; fi; \
	fi

# Tools both commands need, by command: the Kafka broker runs on Java and its jars come through Maven; the
# contract check (and the console) use Node and npm. Installed from Debian when missing and run as root.
SYSTEM_TOOLS := java:openjdk-17-jre-headless mvn:maven node:nodejs npm:npm
system-tools:
	@missing=$$(for t in $(SYSTEM_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || echo $${t#*:}; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing tools: install the Debian packages $$missing (as root: apt-get install $$missing)"; exit 1; fi; \
	fi

## The web console (/console): built with Vite into console/dist when that is missing or older than its sources.
# `npm ci` only when the lockfile changed (node_modules/.package-lock.json is npm's own record of the install).
CONSOLE_SOURCES := $(shell find console/src console/public console/scripts -type f 2>/dev/null) \
	console/index.html console/dashboard.html console/vite.config.ts console/tsconfig.json console/package.json
console: console/dist/index.html
console/node_modules/.package-lock.json: console/package-lock.json | system-tools
	cd console && npm ci --no-audit --no-fund
	@touch $@
console/dist/index.html: console/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd console && npm run build
	@touch $@

## Regenerate the console's API client from the OpenAPI document (after changing the API; a test says when).
console-client: $(STAMP)
	$(BIN)/python -m contract.client

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

up: $(STAMP)
	$(BIN)/laowu up --detach
down: $(STAMP)
	$(BIN)/laowu down
status: $(STAMP)
	$(BIN)/laowu status

schemas: $(STAMP)
	$(BIN)/laowu schemas export

clean-data:
	$(BIN)/laowu down || true
	rm -rf .laowu
