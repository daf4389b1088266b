#!/bin/sh
# Installs Debian packages that are missing. Arguments: PACKAGE:FILE pairs; FILE's presence means installed.
# Uses apt-get directly as root, else `sudo -n` when available; otherwise says what to run.
set -eu
missing=""
for pair in "$@"; do
    pkg=${pair%%:*}
    file=${pair#*:}
    if [ ! -e "$file" ]; then missing="$missing $pkg"; fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "scimsh: missing system packages:$missing" >&2
    echo "scimsh: install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "scimsh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends $missing >/dev/null
fi
