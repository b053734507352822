# Tollgate — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev
TEST_APT_PACKAGES := chromium
VENV := .venv
PY_REQS := tests/integration/requirements.txt

.PHONY: run deps test-deps build release test unit-test integration-test venv bench fuzz lint clean deploy-check

## run: install what is missing, build release, serve on 127.0.0.1:8080 with the built-in defaults
run: deps release
	.build/release/tollgate serve

# Installs whichever of the Debian packages $(1) are missing (sudo when not root).
APT_INSTALL = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

## deps: the Debian packages the build links against (libcurl, OpenSSL, SQLite)
deps:
	@$(call APT_INSTALL,$(APT_PACKAGES))

## test-deps: what only the integration suite needs: headless Chromium for the dashboard test
## (kept out of `deps`, so `make run` does not install a browser)
test-deps:
	@$(call APT_INSTALL,$(TEST_APT_PACKAGES))

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

integration-test: build venv test-deps
	TOLLGATE_BIN=$(CURDIR)/.build/debug/tollgate $(VENV)/bin/python -m pytest -q tests/integration

## bench: release build, nginx and wrk on loopback; prints the table recorded in docs/benchmarks.md
bench: deps
	bash bench/run.sh

## fuzz: libFuzzer targets for every parser of untrusted bytes, FUZZ_SECONDS each (default 60); docs/fuzzing.md
fuzz: deps
	bash Fuzz/run.sh

## deploy-check: offline checks of deploy/ (hadolint, systemd-analyze, kustomize + kubernetes-validate, settings names) and a smoke test of the debug build; docs/deploy.md
deploy-check: build
	TOLLGATE_BIN=$(CURDIR)/.build/debug/tollgate bash deploy/check.sh

lint:
	swift format lint --recursive --strict Sources Tests

clean:
	rm -rf .build $(VENV)
