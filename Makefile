# Every target creates the virtual environment it needs on first use, with uv, from a lock file:
# every package pinned, with its hashes (`make lock` makes requirements-X.lock from requirements-X.txt):
#   .venv          the runtime (requirements-runtime.lock): what `make dev` needs and no more; the
#                  development targets (test, quick, lint, ...) add the tools (requirements-dev.lock)
#   .venv-checkov  checkov alone (requirements-checkov.lock): its pins conflict with boto3's
#   .venv/.uv      uv itself (requirements-uv.lock), installed with pip
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/.uv/bin/uv
STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
# sam build needs the Lambda runtime's Python on PATH (see docs/deploy.md, "Prerequisites").
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
# the environments use $(PYTHON); uv never downloads one
export UV_PYTHON_DOWNLOADS := never
# pytest-xdist workers of make test and make quick: one per core, at most 4 (each worker that runs
# a stack test starts its own local cloud); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --maxprocesses 4
# the tests that serve moto's global state from the test process (an in-process local cloud), which
# any other test's mock_aws resets: in a pytest of their own, one process (tests/conftest.py marks them)
SHARED_MOTO = in_process_moto

.PHONY: setup dev quick test lint lock build deploy docker-check invoke staff token openapi clean browser publish-web bench loadtest checkov fuzz audit

## setup: both environments, runtime and development tools, without running anything.
setup: $(DEV_STAMP) $(CHECKOV_STAMP)

# uv, pinned and hash-checked, with pip: the interpreter's own, else a throwaway venv's.
ENSURE_UV = test $(UV) -nt requirements-uv.lock || { \
	pip="$(PYTHON) -m pip"; $$pip --version >/dev/null 2>&1 || { $(PYTHON) -m venv $(VENV)/.pip && pip=$(VENV)/.pip/bin/pip; }; \
	PIP_ROOT_USER_ACTION=ignore $$pip install -qq --disable-pip-version-check --no-deps --require-hashes --upgrade \
	  --target $(VENV)/.uv -r requirements-uv.lock && touch $(UV); }
# uv reads neither pip.conf nor PIP_* variables. Unless it is given package sources of its own
# (UV_DEFAULT_INDEX, UV_INDEX_URL, UV_INDEX, UV_EXTRA_INDEX_URL, UV_FIND_LINKS), an install hands it
# pip's (`pip config list`: index-url, extra-index-url, find-links, e.g. a mirror or a folder of
# wheels), read at install time, and picks among them as pip does (the best version of any source;
# safe with --require-hashes: every file must match a hash of the lock file). With plain PyPI it sets
# nothing, and uv uses PyPI.
UV_FROM_PIP = if [ -z "$${UV_DEFAULT_INDEX}$${UV_INDEX_URL}$${UV_INDEX}$${UV_EXTRA_INDEX_URL}$${UV_FIND_LINKS}" ] \
	  && conf=$$($(PYTHON) -m pip config list 2>/dev/null); then \
	pip_conf() { { grep -v '^:env:' <<<"$$conf"; grep '^:env:' <<<"$$conf"; } | sed -n "s/^[^.]*\.$$1='\(.*\)'$$/\1/p" | tail -n 1; }; \
	v=$$(pip_conf index-url); [ -z "$$v" ] || export UV_DEFAULT_INDEX="$$v"; \
	v=$$(pip_conf extra-index-url); [ -z "$$v" ] || export UV_EXTRA_INDEX_URL="$$v"; \
	v=$$(pip_conf find-links); [ -z "$$v" ] || export UV_FIND_LINKS="$$(tr -s ' ' ',' <<<"$$v")"; \
	[ -z "$${UV_DEFAULT_INDEX}$${UV_EXTRA_INDEX_URL}$${UV_FIND_LINKS}" ] || export UV_INDEX_STRATEGY=unsafe-best-match; \
	fi
# make a venv (kept if it exists), then make it hold exactly a lock file's packages
UV_VENV = $(UV) venv --quiet --allow-existing --python $(PYTHON)
UV_SYNC = $(UV_FROM_PIP); $(UV) pip sync --quiet --require-hashes --python

$(STAMP): requirements-runtime.lock
	@echo "installing the local cloud's dependencies into $(VENV) (uv, requirements-runtime.lock: about 15 s the first time)"
	@$(ENSURE_UV) && $(UV_VENV) $(VENV) && $(UV_SYNC) $(PY) requirements-runtime.lock
	@rm -f $(DEV_STAMP) && touch $@

# dev.lock holds runtime.lock's packages at the same versions, and the tools
$(DEV_STAMP): requirements-dev.lock requirements-runtime.lock
	@echo "installing the development tools into $(VENV) (uv, requirements-dev.lock: about 40 s the first time)"
	@$(ENSURE_UV) && $(UV_VENV) $(VENV) && $(UV_SYNC) $(PY) requirements-dev.lock
	@touch $(STAMP) $@

$(CHECKOV_STAMP): requirements-checkov.lock
	@echo "installing checkov into $(CHECKOV_VENV), an environment of its own (uv, requirements-checkov.lock: about 20 s the first time)"
	@$(ENSURE_UV) && $(UV_VENV) $(CHECKOV_VENV) && $(UV_SYNC) $(CHECKOV_VENV)/bin/python requirements-checkov.lock
	@touch $@

## lock: resolve requirements-*.txt again into the lock files: every package pinned with its hashes,
##   for Python 3.11+ on any platform. The functions' own requirements come from the requirements.txt
##   of each code folder of template.yaml (the SharedLayer's, services/photos', ...). Locked versions
##   are kept unless UPGRADE=1. Run it after changing a pin in any requirements file.
UV_COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(if $(filter 1 true yes,$(UPGRADE)),--upgrade,)
lock: $(STAMP)
	@roots=$$($(PY) -m tools.code_roots --separator ' ') || exit; \
	code=$$(for root in $$roots; do [ ! -f $$root/requirements.txt ] || echo $$root/requirements.txt; done); set -x; \
	$(UV_COMPILE) requirements-dev.txt $$code -o requirements-dev.lock && \
	$(UV_COMPILE) requirements-runtime.txt $$code --constraint requirements-dev.lock -o requirements-runtime.lock
	$(UV_COMPILE) requirements-checkov.txt -o requirements-checkov.lock
	$(UV_COMPILE) requirements-uv.txt -o requirements-uv.lock

## dev: run the whole system locally (no AWS account, no Docker). Ctrl-C stops it.
##   LOCAL_PARAMETERS: template parameters of the local stack; the edge (CloudFront + Lambda@Edge)
##   is on by default (the local region is us-east-1). ARGS="--parameter-overrides DeployEdge=false"
##   or LOCAL_PARAMETERS= turns it off.
LOCAL_PARAMETERS ?= DeployEdge=true
dev: $(STAMP)
	$(PY) -m localcloud dev --parameter-overrides $(LOCAL_PARAMETERS) $(ARGS)

## quick: the fast tier: unit tests and template checks (checkov included), no stack started
##   (pytest -m "not stack", in parallel). No lint: `make lint quick` for both.
quick: $(DEV_STAMP) $(CHECKOV_STAMP)
	$(PY) -m pytest -m "not stack and not $(SHARED_MOTO)" $(XDIST) $(PYTEST_ARGS)
	$(PY) -m pytest -m "not stack and $(SHARED_MOTO)" $(PYTEST_ARGS)

## test: what CI runs: lint, then every test in parallel (pytest-xdist): template checks (checkov,
##   sam build), unit tests, and the stack tests (local clouds, the browser); then the end-to-end
##   suite again with pets and foods on ECS Fargate (StoreCompute=fargate). On Debian without
##   /usr/bin/chromium it first runs `make browser`.
E2E_SUITE := tests/localcloud/test_e2e.py tests/localcloud/test_e2e_people.py tests/localcloud/test_e2e_photos.py
test: lint $(CHECKOV_STAMP) $(if $(wildcard /usr/bin/chromium),,browser)
	$(PY) -m pytest -m "not $(SHARED_MOTO)" $(XDIST) $(PYTEST_ARGS)
	$(PY) -m pytest -m "$(SHARED_MOTO)" $(PYTEST_ARGS)
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 4 --store-compute=fargate $(E2E_SUITE) $(PYTEST_ARGS)

## checkov: install checkov (requirements-checkov.lock) into its own $(CHECKOV_VENV).
checkov: $(CHECKOV_STAMP)

## fuzz: schemathesis against the local cloud from openapi.json, random and large: 3 runs
##   (v2 with a token, v2 without, v1) of EXAMPLES requests each (default 400: 1,200 requests).
fuzz: $(DEV_STAMP)
	FUZZ_EXAMPLES=$(or $(EXAMPLES),400) FUZZ_RANDOM=1 $(PY) -m pytest -p no:cacheprovider -q -s tests/security/test_fuzz_api.py $(PYTEST_ARGS)

## audit: known vulnerabilities in the pinned dependencies (pip-audit; needs PyPI's advisory
##   service) and checkov on template.yaml. Accepted exceptions are listed in docs/reliability.md.
audit: $(DEV_STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/pip-audit --strict --progress-spinner off --disable-pip -r requirements-dev.lock $(AUDIT_IGNORE)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact

## browser: Debian's Chromium for the web client's browser tests (apt-get, as root; Playwright drives
##   it, no browser download). Nothing to do when /usr/bin/chromium exists.
browser: /usr/bin/chromium
/usr/bin/chromium:
	@echo "installing Debian's chromium for the browser tests (apt-get, about 1 min)"
	@apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

## lint: ruff, mypy, and the GitHub workflows: jactionlint (actionlint's checks and more; runs
##   shellcheck and ruff on their scripts) and zizmor (security audits, offline: no GitHub API).
##   mypy finds the layer and the functions' code where the template says (tools/code_roots.py).
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	MYPYPATH=$$($(PY) -m tools.code_roots) $(VENV)/bin/mypy
	$(VENV)/bin/jactionlint --strict-exit --no-color --shellcheck=$(VENV)/bin/shellcheck --ruff=$(VENV)/bin/ruff .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress --quiet .github/workflows
	$(VENV)/bin/hadolint --no-color --failure-threshold style services/*/Dockerfile

## build: sam build (python3.13 on arm64, no container needed).
build: $(DEV_STAMP)
	$(VENV)/bin/sam build

## deploy: sam deploy; ENV=prod for the prod configuration of samconfig.toml. COMPUTE=fargate runs
##   pets and foods on ECS Fargate: Docker (checked first) builds and pushes their images, and the
##   stack is deployed with each image's digest (tools/deploy_fargate.py; docs/choosing-compute.md).
deploy: $(if $(filter fargate,$(COMPUTE)),docker-check,) build
ifeq ($(COMPUTE),fargate)
	$(PY) -m tools.deploy_fargate --config-env $(or $(ENV),default)
else
	$(VENV)/bin/sam deploy --config-env $(or $(ENV),default) $(if $(GUIDED),--guided,)
endif

# before sam build: a missing Docker is one line, not a build later
docker-check: $(STAMP)
	@$(PY) -m tools.deploy_fargate --check-docker

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
loadtest: $(DEV_STAMP)
	$(PY) benchmarks/loadtest/run.py $(if $(USERS),--users $(USERS),) $(if $(RUN_TIME),--run-time $(RUN_TIME),) $(if $(CONFIG_URL),--config-url $(CONFIG_URL),) $(if $(filter 1 true yes,$(ALLOW_REMOTE)),--allow-remote,) $(ARGS)

## openapi: regenerate openapi.json from the code (the tests fail when it drifts).
openapi: $(STAMP)
	$(PY) -m tools.openapi > openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
