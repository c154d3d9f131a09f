#!/usr/bin/env bash
# install-deps.sh - install the Debian packages zetl needs to build, test and run the demo.
# Idempotent: installs only what is missing (apt-get, through sudo when not root).
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang
    libczmq-dev libzmq3-dev libmsgpack-dev libxxhash-dev libjsmn-dev libjansson-dev libcsv-dev
    libhiredis-dev libmicrohttpd-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev libpcre2-dev
    libyaml-dev libpq-dev libcmocka-dev
    postgresql postgresql-client redis-server
    python3-zmq python3-msgpack python3-psycopg2 python3-yaml valgrind prometheus chromium nftables
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages are installed"
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing ${missing[*]}, and installing them needs root: run this script as" \
         "root or install sudo" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}, and apt-get is not available: zetl's scripts expect" \
         "Debian 12 (or Ubuntu); install the equivalent packages by hand" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
