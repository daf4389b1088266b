#!/bin/sh
# Installs scim2-server (python-scim, PyPI), the independent RFC 7644 server the conformance tests run against,
# into .venv-scim2/ (git-ignored, kept between runs): nothing is installed globally. `make test-deps` runs it;
# Sources/SCIMTestSupport/Scim2Server.swift starts .venv-scim2/bin/scim2-server.
#
#   SCIM2_SERVER_VERSION=0.8.3 (default) picks the version; a venv with another version is upgraded in place.
set -eu
cd "$(dirname "$0")/.."
exec ./scripts/ensure-pypi-venv.sh .venv-scim2 scim2-server "${SCIM2_SERVER_VERSION:-0.8.3}"
