# scimsh — one-command setup. `make run` and `make test` install what is missing (Debian), build, and go.
SWIFT ?= swift
CONFIG ?= debug
BIN = .build/$(CONFIG)/scimsh
SUDO := $(shell [ "$$(id -u)" = "0" ] && echo "" || (command -v sudo >/dev/null 2>&1 && echo "sudo -n"))

.PHONY: all deps test-deps build run test bench lint sandbox clean

all: build

# System packages: libedit-dev (line editing) and pkg-config to find it; tmux for the terminal tests; scim2-server
# (PyPI, in the git-ignored venv .venv-scim2/) for the conformance tests against an independent SCIM server; odm-api
# (PyPI, ODM's generated Python client, in .venv-odm-api/) for the test that runs ODM's own client against the sandbox.
deps:
	@./scripts/ensure-packages.sh libedit-dev:/usr/include/histedit.h pkg-config:/usr/bin/pkg-config

# openssl makes the TLS tests' certificates, curl is their independent client, tinyproxy their proxy. The proxy comes
# from tinyproxy-bin (the program alone): the tinyproxy package would also install a service on port 8888.
test-deps: deps
	@./scripts/ensure-packages.sh tmux:/usr/bin/tmux openssl:/usr/bin/openssl curl:/usr/bin/curl \
		tinyproxy-bin:/usr/bin/tinyproxy
	@./scripts/ensure-scim2-server.sh
	@./scripts/ensure-odm-api.sh

# A release build links the Swift runtime and Foundation in (one self-contained binary that starts about 10 ms
# sooner and spends less CPU per request; docs/performance.md). Debug builds stay dynamic: they link faster.
STATIC_FLAGS = $(if $(filter release,$(CONFIG)),--static-swift-stdlib)

build: deps
	$(SWIFT) build -c $(CONFIG) $(STATIC_FLAGS) --product scimsh

# Starts the shell; with no --host it runs against the embedded sandbox.
run: build
	$(BIN) $(ARGS)

sandbox: build
	$(BIN) sandbox $(ARGS)

# Tests run with their own TMPDIR, removed afterwards, so their temporary files and sockets never pile up.
test: test-deps
	$(SWIFT) build --build-tests
	@tmp=$$(mktemp -d) && status=0 && TMPDIR=$$tmp $(SWIFT) test --skip-build $(TESTFLAGS) || status=$$?; \
		rm -rf "$$tmp"; exit $$status

bench: deps
	./bench/run.sh

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests examples Package.swift

clean:
	$(SWIFT) package clean
