#!/bin/sh
# Installs scim2-server (python-scim, PyPI), the independent RFC 7644 server the conformance tests run against,
# into .venv-scim2/ (git-ignored, kept between runs): nothing is installed globally. `make test-deps` runs it;
# Sources/SCIMTestSupport/Scim2Server.swift starts .venv-scim2/bin/scim2-server.
#
#   SCIM2_SERVER_VERSION=0.8.3 (default) picks the version; a venv with another version is upgraded in place.
set -eu
cd "$(dirname "$0")/.."

SCIM2_SERVER_VERSION=${SCIM2_SERVER_VERSION:-0.8.3}
VENV=.venv-scim2

# `python3 -m venv` needs ensurepip, which Debian ships separately.
if ! command -v python3 >/dev/null 2>&1; then
    ./scripts/ensure-packages.sh python3:/usr/bin/python3
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    ./scripts/ensure-packages.sh python3-venv:/usr/share/doc/python3-venv
fi
if [ ! -x "$VENV/bin/python3" ]; then
    echo "scimsh: creating $VENV for scim2-server" >&2
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('scim2-server') != '$SCIM2_SERVER_VERSION')" \
    >/dev/null 2>&1; then
    echo "scimsh: installing scim2-server==$SCIM2_SERVER_VERSION into $VENV" >&2
    "$VENV/bin/python3" -m pip install --quiet --disable-pip-version-check "scim2-server==$SCIM2_SERVER_VERSION" >&2
fi
