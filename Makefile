# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The local stack, tests and tools run in development; anything else is production (fail closed).
DEV := TORIUM_ENV=development
LOCKS := requirements.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCKS) | cksum | cut -d' ' -f1)
# How the locks are compiled (requirements.in says why uv; tests/test_requirements.py re-runs exactly this).
COMPILE := pip compile --no-config --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_34

.PHONY: run test fuzz soak bench lint spec token clean lock

# The runtime lock first (what Elastic Beanstalk installs), then the dev lock; both hash-checked.
$(STAMP): $(LOCKS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

## Regenerate requirements.txt and requirements-dev.txt after editing requirements.in or requirements-dev.in.
## The current pins are kept where they still fit; UPGRADE="--upgrade-package NAME" (or --upgrade) moves them.
lock: $(STAMP)
	$(BIN)/uv $(COMPILE) --quiet $(UPGRADE) requirements.in -o requirements.txt
	$(BIN)/uv $(COMPILE) --quiet $(UPGRADE) requirements-dev.in -o requirements-dev.txt

## Serve the API on http://127.0.0.1:$${PORT:-5000} with a local database, AWS endpoint, worker and relay.
run: $(STAMP)
	$(DEV) $(BIN)/python -m torium_api.dev

## Run the whole test suite (real PostgreSQL, real tokens, moto's server for AWS).
test: $(STAMP)
	$(BIN)/ruff check torium_api tests bench
	$(DEV) $(BIN)/python -m pytest $(PYTEST_ARGS)

## A longer schemathesis run than the one in `make test` (FUZZ_EXAMPLES per operation), then the stateful phase:
## FUZZ_EXAMPLES scenarios that follow the spec's links (POST /groups -> POST /event -> POST /event/comment...).
fuzz: $(STAMP)
	$(DEV) FUZZ_STATEFUL=1 FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),200) $(BIN)/python -m pytest tests/test_fuzz.py -q

## Many threads for SOAK_SECONDS (default 20) against the app, relay and workers; then all invariants.
soak: $(STAMP)
	$(DEV) $(BIN)/python -m pytest tests/soak -m soak -q -s

## Benchmarks (not tests): HTTP load under gunicorn, product listing, scheduler tick, background pipeline, orders.
bench: $(STAMP)
	$(DEV) $(BIN)/python -m bench.load
	$(DEV) $(BIN)/python -m bench.products
	$(DEV) $(BIN)/python -m bench.reminder_tick
	$(DEV) $(BIN)/python -m bench.pipeline
	$(DEV) $(BIN)/python -m bench.orders

lint: $(STAMP)
	$(BIN)/ruff check torium_api tests bench

## Regenerate api-schema.json from the code (a test fails when it is stale).
spec: $(STAMP)
	$(DEV) $(BIN)/flask --app application openapi write --format=json api-schema.json

## Print a token for EMAIL (default demo@torium.local), e.g. make token EMAIL=a@b.c GROUPS="--group admin".
token: $(STAMP)
	@$(DEV) $(BIN)/flask --app application dev-token $(or $(EMAIL),demo@torium.local) $(GROUPS) | tail -n 1

clean:
	rm -rf $(VENV) instance .pytest_cache

## Crash soak: the relay and the worker as processes, SIGKILLed and restarted at random, PostgreSQL (the soak's own,
## embedded) restarted once, for SOAK_SECONDS under load; then every invariant.
.PHONY: soak-crash
soak-crash: $(STAMP)
	$(DEV) SOAK_CRASH=1 $(BIN)/python -m pytest tests/soak/test_crash_soak.py -m soak -q -s
