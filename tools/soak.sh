#!/usr/bin/env bash
# Run the randomized convergence suites (issue 11 §3) in Odoo's runner, on a fresh database.
#   make soak                       # nightly: 20,000 examples on memory, 2,000 per provider,
#                                   # a new random seed (printed; a failure prints its replay)
#   make convergence                # the CI figures and seeds, convergence suites only
# Environment: CLOUD_CONVERGENCE_SEED / _EXAMPLES / _STEPS / _OPS / _BLOB (see README),
# ADDONS (default: every addon that has a convergence suite), SOAK_PROVIDER_EXAMPLES.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh >/dev/null || exit 2

mode=${1:-soak}
addons=${ADDONS:-cloud_base,cloud_dropbox,cloud_owncloud,cloud_documents}
if [ "$mode" = soak ]; then
  export CLOUD_CONVERGENCE_SEED=${CLOUD_CONVERGENCE_SEED:-$(( (RANDOM << 15) | RANDOM ))}
  memory_examples=${CLOUD_CONVERGENCE_EXAMPLES:-20000}
  provider_examples=${SOAK_PROVIDER_EXAMPLES:-2000}
  echo "== soak: seed $CLOUD_CONVERGENCE_SEED"
fi
db="cloudsync_conv_$(date +%s)_$$"
logdir=${TEST_LOG_DIR:-$here/.test-logs}
mkdir -p "$logdir"
log="$logdir/convergence.log"
export PYTHONPATH="$here/tests${PYTHONPATH:+:$PYTHONPATH}"
rc=0
: >"$log"
for addon in ${addons//,/ }; do
  case "$addon" in
    cloud_base) tag="/cloud_base:TestConvergence"; n=${memory_examples:-} ;;
    cloud_dropbox) tag="/cloud_dropbox:TestConvergenceDropbox"; n=${provider_examples:-} ;;
    cloud_owncloud) tag="/cloud_owncloud:TestConvergenceOwnCloud"; n=${provider_examples:-} ;;
    # the workspace suite, on memory (and on ownCloud when cloud_owncloud is installed too)
    cloud_documents) tag="/cloud_documents:TestWorkspaceConvergence,/cloud_documents:TestWorkspaceConvergenceOwnCloud"
                     n=${provider_examples:-} ;;
    *) continue ;;
  esac
  echo "== $tag${n:+ ($n examples)}"
  CLOUD_CONVERGENCE_EXAMPLES=${n:-${CLOUD_CONVERGENCE_EXAMPLES:-}} \
  .venv/bin/python "$ODOO_PATH/odoo-bin" --addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" \
      --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" \
      -d "$db" -i "$addons" --test-enable --test-tags="$tag" --stop-after-init \
      --without-demo=all --log-level=test --http-port="${TEST_HTTP_PORT:-8169}" \
      --data-dir="$logdir/data" >>"$log" 2>&1 || rc=1
  grep -E "convergence \(|replay with|Falsifying|reproduce_failure|FAIL:|ERROR:" "$log" | tail -20
  line=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error" "$log" | tail -1)
  echo "${line:-no Odoo result line (see $log)}"
  echo "$line" | grep -q " 0 failed, 0 error" || rc=1
done
dropdb --if-exists -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$db" >/dev/null 2>&1 || true
[ "$rc" -eq 0 ] && echo "convergence: passed" || echo "convergence: FAILED (log: $log)"
exit $rc
