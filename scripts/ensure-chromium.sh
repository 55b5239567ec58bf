#!/usr/bin/env bash
# Makes sure a Chromium is there for the browser test (Swagger UI). On Debian as root it installs
# Debian's package; elsewhere it says what to install. playwright-core never downloads a browser.
set -u
if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "The Swagger UI browser test needs Chromium: 'sudo apt-get install chromium', or set CHROMIUM_PATH." >&2
exit 0 # the browser test then fails with the same advice
