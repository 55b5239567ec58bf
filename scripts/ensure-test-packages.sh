#!/usr/bin/env bash
# Makes sure the real components the tests run against are installed: Chromium (browser tests,
# driven by playwright-core, which never downloads a browser), redis-server and redis-cli (the
# Redis backend's tests, standalone and Cluster) and openssl (certificates for the TLS tests). On Debian as root it installs Debian's
# packages; elsewhere it says what to install, and the tests that need a missing one fail with
# the same advice.
set -u
missing=()
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
if [ -z "${REDIS_SERVER_PATH:-}" ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
# redis-cli builds the test Redis Cluster (redis-cli --cluster create); Debian ships it in redis-tools.
if [ -z "${REDIS_CLI_PATH:-}" ] && ! command -v redis-cli >/dev/null 2>&1; then missing+=(redis-tools); fi
if ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${missing[*]} for the tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
echo "The tests need ${missing[*]}: 'sudo apt-get install ${missing[*]}' (or set CHROMIUM_PATH / REDIS_SERVER_PATH / REDIS_CLI_PATH)." >&2
exit 0 # the tests that need them then fail with the same advice
