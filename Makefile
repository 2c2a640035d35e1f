# Every target installs what it needs first, so `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk

# Offline-friendly defaults: no CDK notices, telemetry or version checks; quiet Node 20 banner.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help setup demo test lint synth deploy bench clean

help:  ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(STAMP)  ## Create .venv, install the pinned Python packages and the CDK CLI

$(STAMP): requirements.txt pyproject.toml package.json package-lock.json
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	npm ci --no-audit --no-fund --silent
	touch $(STAMP)

demo: setup  ## Run the whole pipeline locally on the sample events
	$(BIN)/devsecops demo

test: setup lint  ## Lint, then run every test (offline)
	$(BIN)/pytest

lint: setup  ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

synth: setup  ## Synthesize the CloudFormation template into cdk.out/ (no credentials needed)
	$(CDK) synth --quiet --no-notices

deploy: setup  ## Deploy the stack into the current AWS account and region
	$(CDK) deploy --no-notices

bench: setup  ## Run the benchmarks and print one table
	$(BIN)/python bench/run.py

clean:  ## Remove the virtual environment, node modules and synth output
	rm -rf $(VENV) node_modules cdk.out
