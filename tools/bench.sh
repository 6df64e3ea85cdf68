#!/usr/bin/env bash
# Benchmarks of the sync core (figures printed, nothing asserted): `make bench`.
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
.venv/bin/python "$ODOO_PATH/odoo-bin" "${args[@]}" \
    -i cloud_base,cloud_owncloud,cloud_dropbox,cloud_documents \
    --stop-after-init --log-level=warn >/dev/null
shell() {
  CLOUD_BASE_ALLOW_MEMORY_STORAGE=1 .venv/bin/python "$ODOO_PATH/odoo-bin" shell "${args[@]}" \
      --log-level=warn < "$1"
}
# BENCH_PARTS=core,transfers,planning,memory,documents,feeds,gdrive,onedrive limits what runs
parts=${BENCH_PARTS:-core,transfers,planning,memory,documents,feeds,gdrive,onedrive}
[[ ,$parts, == *,core,* ]] && shell tests/bench/bench_core.py
# uploads: sequential runner, concurrent runner, adapter-only limit (memory, ownCloud, Dropbox)
[[ ,$parts, == *,transfers,* ]] && shell tests/bench/bench_transfers.py
# planning of 1k/10k/100k records: first plan, nothing changed, a few changed
[[ ,$parts, == *,planning,* ]] && shell tests/bench/bench_planning.py
# peak memory of a 1 GiB upload, download and reverse sync (ownCloud emulator in its own process)
[[ ,$parts, == *,memory,* ]] && shell tests/bench/bench_memory.py
# the documents file manager: a folder of 5,000 files opened, 1,000 files zipped, the peak
# memory of a 1 GiB zip download (local files, and one synced to the ownCloud emulator)
[[ ,$parts, == *,documents,* ]] && shell tests/bench/bench_documents.py
# change feeds through the merge base, real adapters against their emulators (no database)
[[ ,$parts, == *,feeds,* ]] && .venv/bin/python tests/bench/bench_feeds.py
# a 50 MiB resumable upload to Google Drive through a failed chunk and a rate limit: its peak
# memory (the emulator in its own process)
[[ ,$parts, == *,gdrive,* ]] && .venv/bin/python tests/bench/bench_gdrive_upload.py
# a 50 MiB OneDrive upload session through a 502 and a 429: peak memory
[[ ,$parts, == *,onedrive,* ]] && .venv/bin/python tests/bench/bench_onedrive_upload.py
true
