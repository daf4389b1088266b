#!/bin/sh
# Installs odm-api (PyPI), the Python client Genestack generates from ODM's OpenAPI description, into .venv-odm-api/
# (git-ignored, kept between runs): nothing is installed globally. `make test-deps` runs it; the sandbox's test
# Tests/SCIMSandboxTests/ODMPythonClientTests.swift runs a script with .venv-odm-api/bin/python3 against the
# sandbox, so that ODM's own models judge what the sandbox sends.
#
#   ODM_API_VERSION=1.64.1 (default) picks the version; a venv with another version is upgraded in place.
set -eu
cd "$(dirname "$0")/.."
exec ./scripts/ensure-pypi-venv.sh .venv-odm-api odm-api "${ODM_API_VERSION:-1.64.1}"
