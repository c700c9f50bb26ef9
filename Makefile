# Every target creates the virtual environment it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
# sam build needs the Lambda runtime's Python on PATH (see README, "Building").
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0

.PHONY: setup dev test lint build deploy invoke token openapi clean

setup: $(STAMP)

$(STAMP): requirements-dev.txt shared/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## dev: run the whole system locally (no AWS account, no Docker). Ctrl-C stops it.
dev: $(STAMP)
	$(PY) -m localcloud dev $(ARGS)

## test: lint, template checks and the whole test suite.
test: $(STAMP) lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## build: sam build (python3.13 on arm64, no container needed).
build: $(STAMP)
	$(VENV)/bin/sam build

## deploy: sam deploy; ENV=prod for the prod configuration of samconfig.toml.
deploy: build
	$(VENV)/bin/sam deploy --config-env $(or $(ENV),default) $(if $(GUIDED),--guided,)

## invoke: run one function of the template with an event, without Docker.
##   make invoke FUNCTION=PetsFunction EVENT=events/pets-get.json
invoke: $(STAMP)
	$(PY) -m localcloud invoke $(FUNCTION) $(EVENT) $(ARGS)

## token: sign a demo user up and in against the running local cloud; prints an access token.
token: $(STAMP)
	@$(PY) -m localcloud token $(ARGS)

## openapi: regenerate openapi.json from the code (the tests fail when it drifts).
openapi: $(STAMP)
	$(PY) -m tools.openapi > openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
