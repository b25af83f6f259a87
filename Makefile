# The front door: `make demo` to see it work, `make test` to prove it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm writes this file on every install: node_modules is fresh when it is newer than the lock file.
NODE_STAMP := node_modules/.package-lock.json
# checkov lives in its own venv (it pins an older boto3 than the app), from requirements/checkov.txt.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help venv checkov demo test lint typecheck pytest bench package clean

help:
	@echo "make demo     run the CLI against a local SQS stand-in (no AWS account needed)"
	@echo "make test     set everything up from nothing, then lint, type-check and test"
	@echo "make bench    throughput / memory / cold-start benchmarks"
	@echo "make package  build the Lambda deployment artifact"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m infra.local.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# tests/deploy also runs cfn-lint (pinned in pyproject.toml) and checkov on the packaged template.
pytest: $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# Against LocalStack's SQS on 127.0.0.1 (its own Python 3.13 venv under bench/.work/, created on
# first run); prints each figure beside its target and writes bench/results.json.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP): requirements/checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $(CHECKOV_STAMP)

# osls and serverless-offline, exactly as package-lock.json pins them (.npmrc: legacy-peer-deps).
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ (with npm) first"; exit 1; }
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# build/dlq-redrive.zip: the artifact serverless.yml deploys (docs/deploy.md).
package: $(STAMP)
	$(BIN)/python -m infra.package

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache *.egg-info
