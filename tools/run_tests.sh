#!/usr/bin/env bash
# Run every test of the repository: Odoo's runner for the addons, then pytest for tests/.
# Ends with one line "N passed, N failed" summing both. ADDONS=a,b limits the addons.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh || exit 2

addons=${ADDONS:-$(for d in */__manifest__.py; do dirname "$d"; done | paste -sd, -)}
# add-ons whose tests also run through other add-ons they do not depend on (their adapters
# against the emulators): installed with them; only the add-ons asked for are tested
declare -A companions=([cloud_documents]="cloud_owncloud cloud_dropbox")
install=$addons
for addon in ${addons//,/ }; do
  for companion in ${companions[$addon]:-}; do
    if [ -f "$companion/__manifest__.py" ] && [[ ,$install, != *,$companion,* ]]; then
      install="$install,$companion"
    fi
  done
done
db="cloudsync_test_$(date +%s)_$$"
logdir=${TEST_LOG_DIR:-$here/.test-logs}
mkdir -p "$logdir"
odoo_log="$logdir/odoo.log"
# no PYTHONPATH: addon tests find the emulators themselves (cloud_base/tests/emulators.py)

tags=$(echo "$addons" | sed 's/\([^,]*\)/\/\1/g')
echo "== Odoo tests: $addons (database $db; installed: $install)"
.venv/bin/python "$ODOO_PATH/odoo-bin" --addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" \
    --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" \
    -d "$db" -i "$install" --test-enable --test-tags="$tags" --stop-after-init \
    --without-demo=all --log-level=test --http-port="${TEST_HTTP_PORT:-8169}" \
    --data-dir="$logdir/data" >"$odoo_log" 2>&1
odoo_rc=$?
dropdb --if-exists -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$db" >/dev/null 2>&1 || true

grep -E "(ERROR|FAIL|CRITICAL)" "$odoo_log" | grep -v "^$" | head -80
line=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$odoo_log" | tail -1)
echo "${line:-no Odoo result line (see $odoo_log)}"
if [ -n "$line" ]; then
  read -r f e t < <(echo "$line" | sed -E 's/.* ([0-9]+) failed, ([0-9]+) error.* of ([0-9]+) tests.*/\1 \2 \3/')
  o_failed=$((f + e)); o_total=$t
else
  o_failed=1; o_total=0
fi
# a browser test that was skipped (no Chromium or websocket-client) must not pass silently
skipped_browser=$(grep -cE "skip.*(Chrom|browser|websocket)" "$odoo_log" || true)
if [ "$skipped_browser" -gt 0 ]; then
  echo "browser tests were skipped ($skipped_browser): counted as failures"
  o_failed=$((o_failed + skipped_browser))
fi
if [ "$odoo_rc" -ne 0 ] && [ "$o_failed" -eq 0 ]; then o_failed=1; fi
o_passed=$((o_total - o_failed)); [ "$o_passed" -lt 0 ] && o_passed=0

echo "== pytest tests/"
.venv/bin/python -m pytest tests -q -p no:cacheprovider ${PYTEST_ARGS:-} 2>&1 | tee "$logdir/pytest.log" | tail -30
pytest_rc=${PIPESTATUS[0]}
# the last summary line: "N passed, ...", "N failed, ...", "4 warnings, 3 errors in 3.07s", ...
p_summary=$(grep -E "^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s|no tests ran" "$logdir/pytest.log" | tail -1)
p_passed=$(echo "$p_summary" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+" || echo 0)
p_failed=0
for n in $(echo "$p_summary" | grep -oE "[0-9]+ (failed|error|errors)" | grep -oE "[0-9]+"); do
  p_failed=$((p_failed + n))
done
[ -n "$p_passed" ] || p_passed=0; [ -n "$p_failed" ] || p_failed=0
# an interrupted or failed session (collection errors, a crash) never passes silently
if [ "$pytest_rc" -ne 0 ] && [ "$p_failed" -eq 0 ]; then p_failed=1; fi

passed=$((o_passed + p_passed))
failed=$((o_failed + p_failed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
