#!/usr/bin/env bash
# Granian against uvicorn on the same app, same worker count, same machine, one run.
# Needs wrk and a reachable PostgreSQL/Redis (BOOKING_DATABASE_URL / BOOKING_REDIS_URL).
# Usage: bash bench/asgi_servers.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
workers=${WORKERS:-2}
export BOOKING_DB_POOL_MIN=0
py=.venv/bin/python
$py -m pip install --quiet --disable-pip-version-check 'uvicorn[standard]>=0.30'
run() {
    local name=$1; shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 50); do curl -sf http://127.0.0.1:8099/healthz >/dev/null && break; sleep 0.2; done
    for path in /healthz /api/v1/locations; do
        rps=$(wrk -t1 -c64 -d"${secs}s" "http://127.0.0.1:8099$path" | awk '/Requests\/sec/ {print $2}')
        echo "$name $path $rps req/s"
    done
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}
run granian .venv/bin/booking serve --host 127.0.0.1 --port 8099 --workers "$workers"
run uvicorn .venv/bin/uvicorn --factory booking.api.app:create_app --host 127.0.0.1 --port 8099 \
    --workers "$workers" --no-access-log --log-level warning
