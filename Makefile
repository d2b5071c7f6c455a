# keycloak-clever: the two commands a district IT admin needs are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: deps venv lock services services-down services-status demo test lint unit integration bench clean extension-test

# The Debian packages the services and the browser tests need (installs what is missing).
deps:
	@PY=$(PY) scripts/install-deps

venv: $(STAMP)

# The virtualenv is (re)built when setup.cfg or the constraints change; every target below needs it.
# Every Python package, test and dev tools too, is pinned in requirements/constraints.txt.
$(STAMP): setup.cfg pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q -c requirements/constraints.txt --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[test,dev]'
	@touch $(STAMP)

# Refresh the pins: the newest versions setup.cfg allows, resolved in a scratch virtualenv.
lock:
	rm -rf build/lock-venv && $(PY) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q --upgrade pip
	build/lock-venv/bin/python -m pip install -q -e '.[test,dev]'
	{ echo "# Every Python dependency of keycloak-clever, pinned. Refresh: make lock"; \
	  build/lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^setuptools=='; } \
	  > requirements/constraints.txt
	rm -rf build/lock-venv

services: deps venv
	scripts/services up

services-down:
	scripts/services down

services-status:
	scripts/services status

demo: deps venv services
	$(BIN)/keycloak-clever demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -m "not integration and not browser" -q

# The suite and the benchmark run on Keycloak as a district runs it: production mode on PostgreSQL
# (scripts/services). `KEYCLOAK_BACKEND=dev-file make services` is the embedded quick loop.
test bench: export KEYCLOAK_BACKEND = postgres

# The extension's JUnit suite first (against the same running Keycloak), then the Python suite.
test: deps venv lint services extension-test
	$(BIN)/pytest -q

# The clever-sync extension's JUnit suite (keycloak-extension/src/test: its body and version rules,
# and batches over HTTP against the Keycloak the services run), built for that Keycloak's version.
# Offline first; online once when the Maven cache lacks Surefire's JUnit provider (a fresh machine).
extension-test: services
	set -a && . var/services.env && set +a && cd keycloak-extension && \
	  { mvn -q -B -o test -Dkeycloak.version=$$KEYCLOAK_VERSION > ../var/log/extension-test.log 2>&1 \
	    || mvn -B test -Dkeycloak.version=$$KEYCLOAK_VERSION > ../var/log/extension-test.log 2>&1 \
	    || { tail -60 ../var/log/extension-test.log; exit 1; }; } && \
	  cat target/surefire-reports/*.txt | grep -h "Tests run"

bench: deps venv services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
