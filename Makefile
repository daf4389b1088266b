# scimsh — one-command setup. `make run` and `make test` install what is missing (Debian), build, and go.
SWIFT ?= swift
CONFIG ?= debug
BIN = .build/$(CONFIG)/scimsh
SUDO := $(shell [ "$$(id -u)" = "0" ] && echo "" || (command -v sudo >/dev/null 2>&1 && echo "sudo -n"))

.PHONY: all deps test-deps build run test bench lint sandbox clean release install uninstall dist fuzz sanitize

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
		tinyproxy-bin:/usr/bin/tinyproxy man-db:/usr/bin/man
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
# The install tests need the man page tool (below); built first, so no test spends its time building it.
test: test-deps
	$(SWIFT) build --build-tests
	@$(MAKE) --no-print-directory $(MANUAL_TOOL)
	@tmp=$$(mktemp -d) && status=0 && TMPDIR=$$tmp $(SWIFT) test --skip-build $(TESTFLAGS) || status=$$?; \
		rm -rf "$$tmp"; exit $$status

# --- Installed like a Unix tool -------------------------------------------------------------------------------
# `make install` installs the release binary, the man page scimsh(1) and the bash, zsh and fish completions under
# PREFIX (DESTDIR in front for packagers); `make uninstall` removes exactly those files. `make dist` packs the same
# files, with README.md and examples/, into dist/scimsh-VERSION-linux-ARCH.tar.gz. Both ship the release build, or
# the binary BIN=PATH names (the tests install the debug build this way, without building again).
# The man page and the completions are generated from the shipped binary's own command line (ArgumentParser's
# --experimental-dump-help and --generate-completion-script), so they never say anything its --help does not. (The
# tool copies the help's blank lines into the page, where mdoc wants .Pp: sed makes them paragraph breaks.)
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MAN1DIR = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d
DISTDIR ?= dist
ifeq ($(origin BIN),command line)
SHIP_BIN = $(BIN)
SHIP_BUILD =
else
SHIP_BIN = .build/release/scimsh
SHIP_BUILD = release
endif
# The man page's date: the last commit's, so the same source gives the same page (today's outside a git checkout).
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date +%F)

# ArgumentParser's generate-manual tool (what its `swift package plugin generate-manual` runs), built from the
# resolved checkout with its own scratch path: it never takes the lock of .build, so it also builds while
# `swift test` runs, and it does not rebuild the whole package the way the plugin does.
MANUAL_TOOL = .build-tools/debug/generate-manual
$(MANUAL_TOOL): $(wildcard Package.resolved)
	@[ -d .build/checkouts/swift-argument-parser ] || $(SWIFT) package resolve
	$(SWIFT) build --package-path .build/checkouts/swift-argument-parser --scratch-path .build-tools \
		--product generate-manual
	@touch $@

release: $(MANUAL_TOOL)
	$(MAKE) build CONFIG=release

install: $(SHIP_BUILD) $(MANUAL_TOOL)
	@[ -x "$(SHIP_BIN)" ] || { echo "scimsh: $(SHIP_BIN) is not built" >&2; exit 1; }
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MAN1DIR)" "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" \
		"$(DESTDIR)$(FISHCOMPDIR)"
	install -m 755 "$(SHIP_BIN)" "$(DESTDIR)$(BINDIR)/scimsh"
	@set -e; gen=$$(mktemp -d); trap 'rm -rf "$$gen"' EXIT; \
		$(MANUAL_TOOL) "$(SHIP_BIN)" --date $(MAN_DATE) --output-directory "$$gen"; \
		"$(SHIP_BIN)" --generate-completion-script bash > "$$gen/scimsh.bash"; \
		"$(SHIP_BIN)" --generate-completion-script zsh > "$$gen/_scimsh"; \
		"$(SHIP_BIN)" --generate-completion-script fish > "$$gen/scimsh.fish"; \
		sed 's/^$$/.Pp/' "$$gen/scimsh.1" > "$$gen/scimsh.1.mdoc"; \
		install -m 644 "$$gen/scimsh.1.mdoc" "$(DESTDIR)$(MAN1DIR)/scimsh.1"; \
		install -m 644 "$$gen/scimsh.bash" "$(DESTDIR)$(BASHCOMPDIR)/scimsh"; \
		install -m 644 "$$gen/_scimsh" "$(DESTDIR)$(ZSHCOMPDIR)/_scimsh"; \
		install -m 644 "$$gen/scimsh.fish" "$(DESTDIR)$(FISHCOMPDIR)/scimsh.fish"
	@echo "scimsh: installed $(DESTDIR)$(BINDIR)/scimsh, scimsh(1) and completions for bash, zsh and fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/scimsh" "$(DESTDIR)$(MAN1DIR)/scimsh.1" "$(DESTDIR)$(BASHCOMPDIR)/scimsh" \
		"$(DESTDIR)$(ZSHCOMPDIR)/_scimsh" "$(DESTDIR)$(FISHCOMPDIR)/scimsh.fish"

# The tarball holds the install tree (bin/, share/) under scimsh-VERSION-linux-ARCH/, plus README.md and examples/
# (in a git checkout the files git tracks: not the backups the example scripts write next to their input).
dist: $(SHIP_BUILD) $(MANUAL_TOOL)
	@set -e; version=$$("$(SHIP_BIN)" --version | sed -n 's/^scimsh //p'); \
		[ -n "$$version" ] || { echo "scimsh: no version from $(SHIP_BIN) --version" >&2; exit 1; }; \
		name=scimsh-$$version-linux-$$(uname -m); stage=$$(mktemp -d); trap 'rm -rf "$$stage"' EXIT; \
		$(MAKE) --no-print-directory install BIN="$(SHIP_BIN)" PREFIX= DESTDIR="$$stage/$$name" >/dev/null; \
		cp README.md "$$stage/$$name/"; \
		if git ls-files --error-unmatch examples >/dev/null 2>&1; then \
			git ls-files -z examples | xargs -0 cp --parents -t "$$stage/$$name"; \
		else cp -R examples "$$stage/$$name/"; fi; \
		mkdir -p "$(DISTDIR)"; \
		tar -C "$$stage" --owner=0 --group=0 --numeric-owner --sort=name -czf "$(DISTDIR)/$$name.tar.gz" "$$name"; \
		echo "scimsh: $(DISTDIR)/$$name.tar.gz"

# --- Reliability (docs/reliability.md) ---------------------------------------------------------------------
# `make fuzz` builds the libFuzzer harnesses of fuzz/ (a package of their own, so the main build never sees them) in
# .build-fuzz and runs each for FUZZ_SECONDS; FUZZ_TARGETS picks some; FUZZ_CONFIG=release fuzzes faster but its
# first build takes over an hour here (debug: about five minutes). Every Swift module is compiled with libFuzzer's
# coverage and AddressSanitizer (-sanitize=fuzzer,address, passed to the frontend only), and the harnesses link
# libFuzzer's no-main archive from the toolchain: SwiftPM gives each executable a Swift main, which calls
# LLVMFuzzerRunDriver (fuzz/Sources/FuzzDriver). lld links them: gold fails on libFuzzer's objects.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_CONFIG ?= debug
FUZZ_NO_MAIN = $(firstword $(wildcard $(dir $(realpath $(shell command -v swiftc)))../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-$(shell uname -m).a))
fuzz: deps
	@[ -n "$(FUZZ_NO_MAIN)" ] || { echo "fuzz: libclang_rt.fuzzer_no_main is not in the Swift toolchain" >&2; exit 2; }
	$(SWIFT) build --package-path fuzz --scratch-path .build-fuzz -c $(FUZZ_CONFIG) -Xswiftc -sanitize=address \
		-Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
		-Xlinker $(FUZZ_NO_MAIN) -Xlinker -lstdc++
	FUZZ_BIN=.build-fuzz/$(FUZZ_CONFIG) ./scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# `make sanitize` builds and runs the suite under each of SANITIZERS (ThreadSanitizer, AddressSanitizer), each in a
# scratch path of its own (.build-thread, .build-address) so .build stays as it is; SANITIZE_FILTER runs a part
# (a `swift test --filter` pattern). Any report fails the run: TSan and ASan exit the test process non-zero. The
# project's locks are pthread mutexes TSan sees (SCIMCore's LockedValue), so a TSan report is a real race.
# SCIMSH_SANITIZER tells the tests which one runs: their memory bounds widen by the instrumentation's own overhead.
SANITIZERS ?= thread address
SANITIZE_FILTER ?=
sanitize: test-deps
	@status=0; for s in $(SANITIZERS); do \
		echo "sanitize: building and testing with --sanitize=$$s"; \
		$(SWIFT) build --build-tests --sanitize=$$s --scratch-path .build-$$s || { status=1; continue; }; \
		tmp=$$(mktemp -d); \
		TMPDIR=$$tmp SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 SCIMSH_SANITIZER=$$s \
			$(SWIFT) test --skip-build --sanitize=$$s --scratch-path .build-$$s \
			$(if $(SANITIZE_FILTER),--filter '$(SANITIZE_FILTER)') $(TESTFLAGS) || status=1; \
		rm -rf "$$tmp"; \
	done; exit $$status

bench: deps
	./bench/run.sh

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests examples Package.swift fuzz/Sources fuzz/Package.swift

clean:
	$(SWIFT) package clean
