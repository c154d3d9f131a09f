#!/usr/bin/env bash
# demo.sh - the zetl demo on a fresh Debian machine: install what is missing, build, generate
# 100 000 HOTELCRM booking records with versions, duplicates, out-of-order and late data, and
# load them into PostgreSQL with a local zetl cluster (zetlctl up --once), trimmed and
# lowercased, enriched with each hotel's region and name from a lookup table in Redis; it prints
# the reconciliation and sample rows. Idempotent; writes only inside this checkout (build/, data/,
# run/), apart from the packages it installs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "${ZETL_JOBS:-$(nproc)}"

mkdir -p data
build/ctl/zetlctl gen bookings --count 100000 --versions 0.2 --duplicates 0.05 --disorder 0.3 \
    --late 0.01 --seed 42 --out data/bookings.jsonl

build/ctl/zetlctl gen hotels --hotels 500 --seed 42 --output data/hotels.csv

#  --once: read the file to its end, commit every batch, print the reconciliation and a few
#  loaded rows, then stop the cluster and its throwaway PostgreSQL and Redis under ./run/.
#  --lut loads the hotels as lookup table "hotels" first: bookings get region and hotel_name
build/ctl/zetlctl up --config docs/examples/bookings-demo.yaml --once \
    --lut hotels=data/hotels.csv:hotel_id
