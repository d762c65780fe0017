# A handful of targets a newcomer can guess. Each one works on a fresh clone: it creates .venv and
# installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
STARGATE_PORT ?= 8082
DATA_DIR ?= .local-data
# make load: empty LOAD_URL starts the API like `make run` (free ports, temporary data) and stops it after.
LOAD_URL ?=
LOAD_USERS ?= 8
LOAD_SECONDS ?= 30
LOAD_REQUESTS ?= 20000
LOAD_REPORT ?= load-report.html
# make load LOAD_ENVIRONMENTS=1,4: one run per count of execution environments, throughput side by side.
LOAD_ENVIRONMENTS ?=
# make bench: e.g. BENCH_ARGS="--runs 11"
BENCH_ARGS ?=
export PYTHONPATH := $(CURDIR)/lambda_src:$(CURDIR)
export CDK_DISABLE_CLI_TELEMETRY := true
# The CDK CLI and the CDK app's jsii runtime run on the Node that package.json pins (Node 24 from npm).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# The CDK CLI, through cdk_app/cli.py: CDK_ARGS (extra arguments, e.g. CDK_ARGS="-c storeUrl=https://...
# --profile dev") reaches it from the environment, split like shell words but never run through a shell.
CDK := PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m cdk_app.cli
CDK_ARGS ?=
export CDK_ARGS
# make destroy asks for the stage's name; CONFIRM=<stage> (on the command line or in the environment,
# either way it reaches cdk_app/cli.py) answers for scripts.
# The CLI is pinned (package.json); its "Upgrade recommended" notice does not apply.
export CDK_DISABLE_VERSION_CHECK := 1
# Outside CI, the CDK CLI asks before it widens IAM permissions or security groups.
APPROVAL := $(if $(CI),--require-approval never,--require-approval broadening)

.PHONY: lock sbom scan astrapy-suite distclean help install run token stargate bench load test test-integration lint format typecheck openapi bootstrap synth diff deploy destroy deploy-github-role smoke clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-19s %s\n", $$1, $$2}'

# Two installs into one .venv: what `make run` needs (the function's packages, PyJWT, Swagger UI; ~80 MB,
# seconds), and everything else for tests, linting and deploying (the CDK, mypy, Locust, ...; ~900 MB,
# minutes). Both from hash locks (requirements-run.lock, requirements-dev.lock; `make lock` writes them
# from the pins in requirements*.txt): pip installs nothing whose sha256 the lock does not name. Each says
# what it is doing; a failed one removes .venv, so nothing half-made stays behind.
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
RUN_INSTALLED := $(BIN)/.installed-run

$(RUN_INSTALLED): requirements-run.lock
	@scripts/make-venv "$(PYTHON)" $(VENV) "$(or $(MAKECMDGOALS),install)"
	@echo "Installing what make run needs into $(VENV) (the function's packages, PyJWT, Swagger UI)..." >&2
	@$(PIP) -r requirements-run.lock || { rm -rf $(VENV); echo "The install failed; $(VENV) was removed." >&2; exit 1; }
	@touch $@

$(BIN)/.installed: $(RUN_INSTALLED) requirements-dev.lock
	@echo "Installing the CDK and the development tools into $(VENV) (about 900 MB; a few minutes)..." >&2
	@$(PIP) -r requirements-dev.lock \
		|| { rm -rf $(VENV); echo "The install failed; $(VENV) was removed." >&2; exit 1; }
	@touch $@

# The hash locks, from the pins: run and dev for any platform and Python 3.11+, the function's closure as
# listed (no dependencies added: requests' character detection stays out) for Lambda's Python.
UV_COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes --universal
lock: $(BIN)/.installed ## Rewrite the hash locks (*.lock) from the pins in requirements*.txt, with uv
	$(UV_COMPILE) --python-version 3.11 requirements-run.txt -o requirements-run.lock
	$(UV_COMPILE) --python-version 3.11 requirements-dev.txt -o requirements-dev.lock
	$(UV_COMPILE) --python-version 3.14 --no-deps lambda_src/requirements.txt -o lambda_src/requirements.lock
	$(UV_COMPILE) --python-version 3.11 scripts/scan-requirements.txt -o scripts/scan-requirements.lock
	$(UV_COMPILE) --python-version 3.11 scripts/sbom-requirements.txt -o scripts/sbom-requirements.lock
	$(UV_COMPILE) --python-version 3.11 scripts/astrapy-suite-requirements.txt -o scripts/astrapy-suite-requirements.lock

node_modules/.installed: package.json package-lock.json
	@echo "Installing the pinned CDK CLI, and Node 24 for it, from npm into node_modules..." >&2
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(BIN)/.installed ## Create .venv and install everything (Python); npm packages come with synth

run: $(RUN_INSTALLED) ## Serve the API on 127.0.0.1:PORT (3000) over the embedded server (or STORE_URL)
	PORT=$(PORT) STARGATE_PORT=$(STARGATE_PORT) DATA_DIR=$(DATA_DIR) $(BIN)/python -m localdev.run

token: $(RUN_INSTALLED) ## A bearer token for make run: make token SUB=<name> [SCOPES="orders/read orders/write"] [TTL=3600]
	@$(BIN)/python -m localdev.tokens --sub "$(SUB)" --data-dir $(DATA_DIR) $(if $(SCOPES),--scopes "$(SCOPES)") $(if $(TTL),--ttl "$(TTL)")

stargate: $(RUN_INSTALLED) ## Serve only the embedded Stargate-compatible server on STARGATE_PORT (8082)
	$(BIN)/python -m localdev.stargate --port $(STARGATE_PORT) --data-dir $(DATA_DIR)

bench: $(BIN)/.installed node_modules/.installed ## Cold and warm figures of the handler beside a textbook handler, as ratios, and the asset size
	$(BIN)/python bench/run.py $(BENCH_ARGS)

load: $(BIN)/.installed ## Locust load test of LOAD_URL or a fresh `make run`: LOAD_USERS, LOAD_SECONDS, LOAD_REQUESTS, LOAD_REPORT, LOAD_ENVIRONMENTS
	$(BIN)/python bench/load/run.py --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) \
		--requests $(LOAD_REQUESTS) --report "$(LOAD_REPORT)" $(if $(LOAD_URL),--url "$(LOAD_URL)") \
		$(if $(LOAD_ENVIRONMENTS),--environments "$(LOAD_ENVIRONMENTS)")

test: $(BIN)/.installed node_modules/.installed ## Run the whole test suite
	$(BIN)/python -m pytest

# make test-integration uses the Docker engine you run (Docker Desktop, Podman's Docker socket, a running
# dockerd) and changes nothing on the machine. DOCKER_SETUP=1 (CI sets it) may also install Debian's
# docker.io and start a dockerd (stopped again at the end), and build a local Stargate image with
# debootstrap where no registry answers.
DOCKER_SETUP ?=
test-integration: $(BIN)/.installed ## Contract and astrapy suites, every backend reachable, Docker ones included (DOCKER_SETUP=1: may install and start Docker)
	$(if $(filter 1,$(DOCKER_SETUP)),-scripts/docker/start-dockerd.sh)
	STARGATE_IMAGE="$$(STARGATE_IMAGE_FALLBACK=$(if $(filter 1,$(DOCKER_SETUP)),1,0) scripts/docker/stargate-image.sh)" \
		$(BIN)/python -m pytest tests/contract tests/astrapy_suite -p no:cacheprovider; \
		status=$$?; $(if $(filter 1,$(DOCKER_SETUP)),scripts/docker/stop-dockerd.sh;) exit $$status

sbom: $(BIN)/.installed ## CycloneDX SBOM of the function asset (every package, version, sha256): .build/sbom/
	$(BIN)/python scripts/sbom.py

# make astrapy-suite AREAS=collections (or misc, tables, a file such as collections/test_collection_dml_sync.py;
# commas between several): only those. ASTRAPY_SUITE_ENDPOINT=http://localhost:8181 runs it against another
# (self-hosted) Data API instead of a fresh embedded server.
AREAS ?=
astrapy-suite: $(RUN_INSTALLED) ## astrapy 2.3.2's own integration tests, unmodified, against a fresh embedded server (AREAS=collections,...; minutes)
	$(BIN)/python scripts/astrapy_suite.py $(if $(AREAS),"$(AREAS)")

scan: $(BIN)/.installed node_modules/.installed ## checkov on every template variant, zizmor on the workflows, offline (docs/security-scans.md)
	$(BIN)/python scripts/scan.py

lint: $(BIN)/.installed ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "mypy --strict over the packages (about a minute on 2 cores)..." >&2
	$(BIN)/mypy

format: $(BIN)/.installed ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(BIN)/.installed ## Regenerate the committed OpenAPI document from the code
	$(BIN)/python -m orders_api.openapi > openapi.json

bootstrap: $(BIN)/.installed node_modules/.installed ## cdk bootstrap, once per account and region (CDK_ARGS)
	$(CDK) bootstrap

synth: $(BIN)/.installed node_modules/.installed ## cdk synth without Docker or AWS (CDK_ARGS; the first run installs npm packages)
	$(CDK) synth --quiet

diff: $(BIN)/.installed node_modules/.installed ## cdk diff against the deployed stack (CDK_ARGS)
	$(CDK) diff OrdersApi

deploy: $(BIN)/.installed node_modules/.installed ## cdk deploy, outputs in cdk-outputs.json (CDK_ARGS; refuses the placeholder URL)
	$(CDK) check
	$(CDK) deploy $(APPROVAL) --outputs-file cdk-outputs.json OrdersApi

destroy: $(BIN)/.installed node_modules/.installed ## cdk destroy, after the stage's name is typed (or CONFIRM=<stage>)
	$(CDK) destroy OrdersApi

deploy-github-role: $(BIN)/.installed node_modules/.installed ## The role GitHub Actions deploys with (OIDC): GITHUB_REPO=<owner>/<repo>
	@test -n "$(GITHUB_REPO)" || { echo "Give the repository: make deploy-github-role GITHUB_REPO=<owner>/<repo>" >&2; exit 2; }
	$(CDK) deploy --require-approval broadening -c githubRepo=$(GITHUB_REPO) OrdersApiGitHubDeploy

smoke: $(BIN)/.installed ## Exercise a deployed endpoint: make smoke [API_URL=https://...] [SMOKE_ARGS=--no-auth]
	$(BIN)/python scripts/smoke.py $(API_URL) $(SMOKE_ARGS)

clean: ## Remove build output and local data
	rm -rf cdk.out .build $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache

distclean: clean ## Remove everything the Makefile made: also .venv, node_modules, cdk-outputs.json, load reports
	rm -rf $(VENV) node_modules cdk-outputs.json load-report*.html load-report*.csv
