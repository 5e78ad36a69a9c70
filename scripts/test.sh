#!/usr/bin/env bash
# Run the whole suite on SQLite, then again on PostgreSQL.
#
# PostgreSQL: EXPATSI_TEST_DATABASE_URL if set; otherwise, as root on Debian/Ubuntu, a throwaway
# cluster on a loopback port (installed with apt if needed, stopped afterwards). Otherwise the
# PostgreSQL leg is skipped loudly — and with EXPATSI_REQUIRE_POSTGRES=1 a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PYTEST=(.venv/bin/pytest -p no:cacheprovider "$@")

banner() { printf '\n==== %s ====\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  echo "!!!! /usr/bin/chromium not found: browser tests (tests/browser) will be SKIPPED."
  echo "!!!! Install it with: apt-get install -y --no-install-recommends chromium fonts-noto-cjk"
  if [ "${EXPATSI_REQUIRE_BROWSER:-0}" = "1" ]; then
    echo "!!!! EXPATSI_REQUIRE_BROWSER=1: a skipped browser test is a failure." >&2
  fi
fi

banner "Test suite on SQLite"
env -u DATABASE_URL "${PYTEST[@]}"

pg_dir=""
pg_bin=""
cleanup() {
  if [ -n "$pg_dir" ] && [ -f "$pg_dir/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$pg_dir" ] && rm -rf "$pg_dir"
}
trap cleanup EXIT

url="${EXPATSI_TEST_DATABASE_URL:-}"
if [ -z "$url" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
      banner "Installing PostgreSQL with apt"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    pg_dir=$(mktemp -d /tmp/expatsi-pg.XXXXXX)
    chown postgres:postgres "$pg_dir"
    port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
    pg_dir="$pg_dir/data"
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir" -l "$pg_dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    url="postgresql://postgres@127.0.0.1:$port/expatsi"
    echo "Started a throwaway PostgreSQL cluster on 127.0.0.1:$port"
  fi
fi

if [ -z "$url" ]; then
  echo
  echo "!!!! PostgreSQL leg SKIPPED: set EXPATSI_TEST_DATABASE_URL=postgresql://… (or run as root on Debian)."
  if [ "${EXPATSI_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "!!!! EXPATSI_REQUIRE_POSTGRES=1: a skipped PostgreSQL leg is a failure." >&2
    exit 1
  fi
  exit 0
fi

banner "Test suite on PostgreSQL"
DATABASE_URL="$url" EXPATSI_REQUIRE_POSTGRES_TESTS=1 "${PYTEST[@]}"
