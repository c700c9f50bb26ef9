# Every target creates the virtual environment it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov lives in its own virtual environment: its pins conflict with boto3's in $(VENV).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
# sam build needs the Lambda runtime's Python on PATH (see README, "Building").
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0

.PHONY: setup dev test lint build deploy invoke staff token openapi clean browser publish-web bench loadtest checkov fuzz audit

setup: $(STAMP)

$(STAMP): requirements-dev.txt shared/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## dev: run the whole system locally (no AWS account, no Docker). Ctrl-C stops it.
##   LOCAL_PARAMETERS: template parameters of the local stack; the edge (CloudFront + Lambda@Edge)
##   is on by default (the local region is us-east-1). ARGS="--parameter-overrides DeployEdge=false"
##   or LOCAL_PARAMETERS= turns it off.
LOCAL_PARAMETERS ?= DeployEdge=true
dev: $(STAMP)
	$(PY) -m localcloud dev --parameter-overrides $(LOCAL_PARAMETERS) $(ARGS)

## test: lint, template checks (checkov included) and the whole test suite.
test: $(STAMP) $(CHECKOV_STAMP) lint browser
	$(PY) -m pytest $(PYTEST_ARGS)

## checkov: install checkov (pinned in requirements-checkov.txt) into its own $(CHECKOV_VENV).
checkov: $(CHECKOV_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## fuzz: schemathesis against the local cloud from openapi.json, random and large: 3 runs
##   (v2 with a token, v2 without, v1) of EXAMPLES requests each (default 400: 1,200 requests).
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(or $(EXAMPLES),400) FUZZ_RANDOM=1 $(PY) -m pytest -p no:cacheprovider -q -s tests/security/test_fuzz_api.py $(PYTEST_ARGS)

## audit: known vulnerabilities in the pinned dependencies (pip-audit; needs PyPI's advisory
##   service) and checkov on template.yaml. Accepted exceptions are listed in the README.
audit: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/pip-audit --strict --progress-spinner off -r requirements-dev.txt -r services/photos/requirements.txt $(AUDIT_IGNORE)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact

## browser: Debian's Chromium for the web client's browser tests (Playwright drives it; no download).
browser:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## lint: ruff, mypy, and the GitHub workflows: jactionlint (actionlint's checks and more; runs
##   shellcheck and ruff on their scripts) and zizmor (security audits, offline: no GitHub API).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/jactionlint --strict-exit --no-color --shellcheck=$(VENV)/bin/shellcheck --ruff=$(VENV)/bin/ruff .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress --quiet .github/workflows
	$(VENV)/bin/hadolint --no-color --failure-threshold style services/*/Dockerfile

## build: sam build (python3.13 on arm64, no container needed).
build: $(STAMP)
	$(VENV)/bin/sam build

## deploy: sam deploy; ENV=prod for the prod configuration of samconfig.toml.
deploy: build
	$(VENV)/bin/sam deploy --config-env $(or $(ENV),default) $(if $(GUIDED),--guided,)

## publish-web: upload web/ and a config.json built from the stack's outputs to its WebBucket,
##   then invalidate CloudFront. STACK defaults to samconfig.toml's stack_name (ENV=prod for [prod]).
##   make publish-web [ENV=prod] [STACK=petstore-dev] [REGION=eu-west-1]
publish-web: $(STAMP)
	$(PY) -m tools.publish_web --config-env $(or $(ENV),default) $(if $(STACK),--stack $(STACK),) $(if $(REGION),--region $(REGION),)

## invoke: run one function of the template with an event, without Docker.
##   make invoke FUNCTION=PetsFunction EVENT=events/pets-get.json  (the running `make dev`, whatever
##   its ports; TEMPORARY=1: a backend of its own instead). Only the result goes to stdout.
invoke: $(STAMP)
	@$(PY) -m localcloud invoke $(FUNCTION) $(EVENT) --parameter-overrides $(LOCAL_PARAMETERS) $(if $(filter 1 true yes,$(TEMPORARY)),--temporary,) $(ARGS)

## staff: make a signed-up user staff (catalogue, photos, moderation) in the running local cloud,
##   or in a deployed stack with ENV= or STACK= (your AWS credentials): make staff EMAIL=ada@example.com
staff: $(STAMP)
	@test -n "$(EMAIL)" || { echo "make staff EMAIL=<the user's email> [ENV=prod|STACK=name]"; exit 2; }
	@$(PY) -m tools.staff "$(EMAIL)" $(if $(ENV),--config-env $(ENV),) $(if $(STACK),--stack $(STACK),) $(if $(REGION),--region $(REGION),)

## token: sign a demo user up and in against the running local cloud; prints an access token.
token: $(STAMP)
	@$(PY) -m localcloud token $(ARGS)

## bench: every benchmark in benchmarks/ (a few minutes); writes benchmarks/RESULTS.md and the
##   README's Performance table. Quiet machine wanted: other work shows up as noise.
bench: $(STAMP)
	$(PY) benchmarks/run.py $(ARGS)

## loadtest: Locust with Cognito users against a running stack, bounded (USERS=20, RUN_TIME=60 s).
##   Default target: make dev's config.json; CONFIG_URL=... for another. A target that is not on
##   this machine also needs ALLOW_REMOTE=1 and AWS credentials allowed to AdminConfirmSignUp and
##   AdminDeleteUser on its user pool.
loadtest: $(STAMP)
	$(PY) benchmarks/loadtest/run.py $(if $(USERS),--users $(USERS),) $(if $(RUN_TIME),--run-time $(RUN_TIME),) $(if $(CONFIG_URL),--config-url $(CONFIG_URL),) $(if $(filter 1 true yes,$(ALLOW_REMOTE)),--allow-remote,) $(ARGS)

## openapi: regenerate openapi.json from the code (the tests fail when it drifts).
openapi: $(STAMP)
	$(PY) -m tools.openapi > openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
