# keycloak-clever: the two commands a district IT admin needs are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv services services-down services-status demo test lint unit integration bench clean

venv: $(STAMP)

# The virtualenv is (re)built when setup.cfg changes; every target below depends on it.
$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	@touch $(STAMP)

services: venv
	scripts/services up

services-down:
	scripts/services down

services-status:
	scripts/services status

demo: venv services
	$(BIN)/keycloak-clever demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -m "not integration and not browser" -q

test: venv lint services
	$(BIN)/pytest -q

bench: venv services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
