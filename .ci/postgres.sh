#!/usr/bin/env bash
# Prepare what the PostgreSQL tests need (marker postgres); idempotent and quiet.
#
# The tests start their own throwaway cluster (tests/pg_fixtures.py: initdb in a temporary folder, 127.0.0.1
# only, stopped by its pid); this script only makes sure PostgreSQL 15's binaries are there:
# /usr/lib/postgresql/15/bin/{initdb,pg_ctl,postgres,psql,pg_dump,pg_restore}. When initdb is missing it installs
# Debian's postgresql-15 with apt-get, without creating or starting Debian's default cluster.
#
# Usage: .ci/postgres.sh        (from anywhere; PG_BIN overrides the bin folder that is checked)
set -euo pipefail

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"

if [[ -x "$pg_bin/initdb" ]]; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "error: $pg_bin/initdb is missing and this user cannot apt-get install postgresql-15" >&2
    exit 1
fi

echo "installing Debian postgresql-15 (no default cluster)"
# the tests make their own cluster: keep the package from creating and starting /var/lib/postgresql/15/main
"${as_root[@]}" mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | "${as_root[@]}" tee /etc/postgresql-common/createcluster.d/conflict-spans-tests.conf >/dev/null
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null

for tool in initdb pg_ctl postgres psql pg_dump pg_restore; do
    if [[ ! -x "$pg_bin/$tool" ]]; then
        echo "error: $pg_bin/$tool is still missing after installing postgresql-15" >&2
        exit 1
    fi
done
echo "PostgreSQL 15 ready in $pg_bin"
