# Tollgate — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev
VENV := .venv
PY_REQS := tests/integration/requirements.txt

.PHONY: run deps build release test unit-test integration-test venv bench lint clean

## run: install what is missing, build release, serve on 127.0.0.1:8080 with the built-in defaults
run: deps release
	.build/release/tollgate serve

## deps: the Debian packages the build links against (libcurl, OpenSSL, SQLite)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

## test: unit tests (swift test), then the integration suite (official SDKs → Tollgate → mock provider)
test: unit-test integration-test

unit-test: build
	swift test

venv: $(VENV)/.installed
$(VENV)/.installed: $(PY_REQS)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r $(PY_REQS)
	touch $@

integration-test: build venv
	TOLLGATE_BIN=$(CURDIR)/.build/debug/tollgate $(VENV)/bin/python -m pytest -q tests/integration

## bench: release build, nginx and wrk on loopback; prints the table recorded in docs/benchmarks.md
bench: deps
	bash bench/run.sh

lint:
	swift format lint --recursive --strict Sources Tests

clean:
	rm -rf .build $(VENV)
