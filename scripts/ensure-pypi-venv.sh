#!/bin/sh
# Installs one PyPI package at one version into a git-ignored venv of the repository (kept between runs; a venv
# with another version is upgraded in place): nothing is installed globally. Used by ensure-scim2-server.sh and
# ensure-odm-api.sh.
#
#   scripts/ensure-pypi-venv.sh VENV PACKAGE VERSION
set -eu
cd "$(dirname "$0")/.."

VENV=$1
PACKAGE=$2
VERSION=$3

# `python3 -m venv` needs ensurepip, which Debian ships separately.
if ! command -v python3 >/dev/null 2>&1; then
    ./scripts/ensure-packages.sh python3:/usr/bin/python3
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    ./scripts/ensure-packages.sh python3-venv:/usr/share/doc/python3-venv
fi
if [ ! -x "$VENV/bin/python3" ]; then
    echo "scimsh: creating $VENV for $PACKAGE" >&2
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python3" -c "import importlib.metadata as m, sys; sys.exit(m.version('$PACKAGE') != '$VERSION')" \
    >/dev/null 2>&1; then
    echo "scimsh: installing $PACKAGE==$VERSION into $VENV" >&2
    "$VENV/bin/python3" -m pip install --quiet --disable-pip-version-check "$PACKAGE==$VERSION" >&2
fi
