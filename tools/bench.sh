#!/usr/bin/env bash
# Benchmarks of the sync core (figures printed, nothing asserted): `make bench`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh
db="${BENCH_DB:-cloudsync_bench_$$}"
data_dir="${BENCH_DATA_DIR:-$here/.test-logs/bench-data}"
# the database and its filestore go (the memory part leaves gigabytes there)
trap 'dropdb --if-exists --force -h "$PGHOST" -U "$PGUSER" "$db" >/dev/null 2>&1 || true
      rm -rf "$data_dir/filestore/$db"' EXIT
args=(--addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" --db_host="$PGHOST"
      --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" -d "$db"
      --data-dir="$data_dir" --without-demo=all)
.venv/bin/python "$ODOO_PATH/odoo-bin" "${args[@]}" \
    -i cloud_base,cloud_owncloud,cloud_dropbox,cloud_onedrive,cloud_gdrive,cloud_documents \
    --stop-after-init --log-level=warn >/dev/null
shell() {
  CLOUD_BASE_ALLOW_MEMORY_STORAGE=1 .venv/bin/python "$ODOO_PATH/odoo-bin" shell "${args[@]}" \
      --log-level=warn < "$1"
}
# BENCH_PARTS=core,transfers,planning,memory,documents,feeds,gdrive,onedrive,latency limits what
# runs
parts=${BENCH_PARTS:-core,transfers,planning,memory,documents,feeds,gdrive,onedrive,latency}
[[ ,$parts, == *,core,* ]] && shell tests/bench/bench_core.py
# uploads: sequential runner, concurrent runner, adapter-only limit (memory, ownCloud, Dropbox)
[[ ,$parts, == *,transfers,* ]] && shell tests/bench/bench_transfers.py
# planning of 1k/10k/100k records: first plan, nothing changed, a few changed
[[ ,$parts, == *,planning,* ]] && shell tests/bench/bench_planning.py
# peak memory of a 1 GiB upload, download and reverse sync on every provider (each emulator in
# its own process)
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
# end-to-end latency of new attachments and a rename with the crons running: a real Odoo server
# (1 cron thread) on the bench database, the ownCloud emulator in its own process
[[ ,$parts, == *,latency,* ]] && .venv/bin/python tests/bench/bench_latency.py "${args[@]}"
true
