#!/usr/bin/env bash
# Install headless Chromium (Debian's package) for tests/test_browser.py.
# Idempotent and quiet: does nothing when Chromium is already there. Exits non-zero
# only when it cannot install (no apt, not root and no sudo, no package); .ci/run
# then goes on and the browser tests skip with the reason.
set -euo pipefail

for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then
    echo "install-browser: $("$candidate" --version 2>/dev/null || echo "$candidate") already installed"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium yourself to run the browser tests" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install-browser: not root and no password-less sudo; cannot install Chromium" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-browser: installing Debian's chromium package (quietly)..."
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"
