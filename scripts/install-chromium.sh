#!/usr/bin/env bash
# Make sure Debian's Chromium is at $1 (default /usr/bin/chromium) for the browser
# tests: install the `chromium` package with apt-get when it is missing, running
# `apt-get update` first only if the plain install fails. Quiet unless it fails.
set -uo pipefail
chromium=${1:-/usr/bin/chromium}
[ -x "$chromium" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo=""; fi
if ! command -v apt-get >/dev/null; then
    echo "No Chromium at $chromium and no apt-get to install it: install Chromium and" \
        "run with CHROMIUM=/path/to/chromium, or deselect the browser tests" \
        "(pytest -m 'not browser')." >&2
    exit 1
fi
echo "Installing chromium with apt-get for the browser tests..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq chromium >"$log" 2>&1; then
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "Could not install chromium with apt-get." >&2
        exit 1
    fi
fi
if [ ! -x "$chromium" ]; then
    echo "chromium was installed but $chromium does not exist." >&2
    exit 1
fi
"$chromium" --version 2>/dev/null || true
