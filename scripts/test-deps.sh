#!/usr/bin/env bash
# Installs the tools some tests drive as real, independent peers (redis-server, kcat), and node,
# which runs GraphiQL's page script, when they are missing: with apt-get on Debian or Ubuntu,
# otherwise it says what to install. Tests that need a missing tool skip, or fail when CI=true.
set -u
missing=()
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

packages=()
for tool in "${missing[@]}"; do
  case "$tool" in
    redis-server) packages+=(redis-server) ;;
    kcat) packages+=(kcat) ;;
    node) packages+=(nodejs) ;;
    *) packages+=("$tool") ;;
  esac
done

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${packages[*]} for the tests (apt-get)"
  if $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null; then
    exit 0
  fi
fi
echo "The tests need ${missing[*]}. Install them (Debian/Ubuntu: apt-get install ${packages[*]};" >&2
echo "macOS: brew install redis kcat node); tests that need them are skipped, or fail when CI=true." >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
