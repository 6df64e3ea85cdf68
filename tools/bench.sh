#!/usr/bin/env bash
# Benchmarks of the sync core and the adapters (figures printed, nothing asserted): `make bench`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh
db="${BENCH_DB:-cloudsync_bench_$$}"
trap 'dropdb --if-exists -h "$PGHOST" -U "$PGUSER" "$db" >/dev/null 2>&1 || true' EXIT
args=(--addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" --db_host="$PGHOST"
      --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" -d "$db"
      --data-dir="${BENCH_DATA_DIR:-$here/.test-logs/bench-data}" --without-demo=all)
.venv/bin/python "$ODOO_PATH/odoo-bin" "${args[@]}" -i cloud_base --stop-after-init \
    --log-level=warn >/dev/null
CLOUD_BASE_ALLOW_MEMORY_STORAGE=1 .venv/bin/python "$ODOO_PATH/odoo-bin" shell "${args[@]}" --log-level=warn \
    < tests/bench/bench_core.py
# change feeds through the merge base, real adapters against their emulators (no database)
.venv/bin/python tests/bench/bench_feeds.py
# a 50 MiB resumable upload to Google Drive through a failed chunk and a rate limit: its
# peak memory (the emulator in a child process)
.venv/bin/python tests/bench/bench_gdrive_upload.py
