#!/usr/bin/env bash
# `make demo`: a fresh Odoo database with the suite installed, syncing with an embedded local
# ownCloud/Nextcloud-compatible server whose files live on disk under .demo/cloud/.
# DEMO_EXIT_AFTER_SYNC=1: stop after the first full cycle (status 0 only if the cloud tree
# matches the rules). DEMO_DB, DEMO_PORT (8069) and DEMO_CLOUD_PORT (8090) can be changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh

db=${DEMO_DB:-cloudsync_demo}
port=${DEMO_PORT:-8069}
cloud_port=${DEMO_CLOUD_PORT:-8090}
demo_dir="$here/.demo"
export DEMO_CLOUD_ROOT="$demo_dir/cloud"
export DEMO_CLOUD_URL="http://127.0.0.1:$cloud_port"
export DEMO_CLOUD_USER=admin DEMO_CLOUD_PASSWORD=demo-app-password
export PYTHONPATH="$here/tests${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$demo_dir"
rm -rf "$DEMO_CLOUD_ROOT" "$demo_dir/filestore"

echo "demo: starting the local cloud on $DEMO_CLOUD_URL (files under $DEMO_CLOUD_ROOT)"
.venv/bin/python -m cloud_emulators.owncloud --port "$cloud_port" --root "$DEMO_CLOUD_ROOT" \
    --user "$DEMO_CLOUD_USER" --password "$DEMO_CLOUD_PASSWORD" >"$demo_dir/cloud.log" 2>&1 &
cloud_pid=$!
trap 'kill $cloud_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$DEMO_CLOUD_URL/status.php" 2>/dev/null && break
  sleep 0.2
done

args=(--addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" --db_host="$PGHOST"
      --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" -d "$db"
      --data-dir="$demo_dir/data" --without-demo=all)
echo "demo: creating database $db with the suite (about a minute)"
dropdb --if-exists -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$db"
.venv/bin/python "$ODOO_PATH/odoo-bin" "${args[@]}" -i contacts,cloud_base,cloud_owncloud \
    --stop-after-init --log-level=warn >"$demo_dir/install.log" 2>&1 \
  || { tail -30 "$demo_dir/install.log"; exit 1; }

echo "demo: configuring the client and rules, running a full direct + backward cycle"
.venv/bin/python "$ODOO_PATH/odoo-bin" shell "${args[@]}" --log-level=warn \
    < tools/demo_setup.py | tee "$demo_dir/summary.txt"
grep -q "^DEMO OK" "$demo_dir/summary.txt" || { echo "demo: the cloud tree does not match"; exit 1; }

if [ "${DEMO_EXIT_AFTER_SYNC:-0}" = 1 ]; then
  echo "demo: DEMO_EXIT_AFTER_SYNC=1, stopping after the first cycle"
  exit 0
fi
echo "demo: serving Odoo on http://localhost:$port (login admin / admin); Ctrl-C to stop"
.venv/bin/python "$ODOO_PATH/odoo-bin" "${args[@]}" --http-port="$port" --max-cron-threads=1
