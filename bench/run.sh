#!/bin/sh
# `make bench`: builds scimsh in release mode (in its own scratch path, so the shared debug .build is left
# alone), installs what the suite compares against (wrk, GNU time, curl, a venv with ODM's Python client
# odm_api), then runs bench/bench.py, which prints a markdown table and writes bench/results/.
#
#   ./bench/run.sh              the full suite (about 4 minutes on 2 cores; bulk patch at 5 and 20 ms latency)
#   ./bench/run.sh --quick      a smoke run with tiny sizes
#   ./bench/run.sh --help       the harness's options (--runs, --only 5ms,20ms,startup, ...)
#
# Nothing here is part of the main build: the package does not know this folder exists.
set -eu
cd "$(dirname "$0")/.."

ODM_API_VERSION=${ODM_API_VERSION:-1.64.1}

./scripts/ensure-packages.sh wrk:/usr/bin/wrk time:/usr/bin/time curl:/usr/bin/curl \
    libedit-dev:/usr/include/histedit.h pkg-config:/usr/bin/pkg-config
# `python3 -m venv` needs ensurepip, which Debian ships separately.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    ./scripts/ensure-packages.sh python3-venv:/usr/share/doc/python3-venv
fi

# The Swift runtime and Foundation are linked in (--static-swift-stdlib), as `make build CONFIG=release` does:
# startup loses the dynamic loading of a dozen Swift libraries (about 10 ms), and runtime calls such as
# retain/release and task-local lookups go direct instead of through the PLT (docs/performance.md, round 5).
echo "bench: building scimsh (release, static Swift runtime, .build-release)" >&2
swift build -c release --static-swift-stdlib --product scimsh --scratch-path .build-release >&2
swift build -c release --static-swift-stdlib --product bulk-patch-example --scratch-path .build-release >&2

if [ ! -x bench/.venv/bin/python3 ]; then
    echo "bench: creating bench/.venv" >&2
    python3 -m venv bench/.venv
fi
if ! bench/.venv/bin/python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('odm-api') != '$ODM_API_VERSION')" \
    >/dev/null 2>&1; then
    echo "bench: installing odm-api==$ODM_API_VERSION into bench/.venv" >&2
    bench/.venv/bin/python3 -m pip install --quiet --disable-pip-version-check "odm-api==$ODM_API_VERSION" >&2
fi

exec bench/.venv/bin/python3 bench/bench.py "$@"
