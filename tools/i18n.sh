#!/usr/bin/env bash
# `make i18n`: regenerate each addon's i18n/<addon>.pot from the code (Odoo's own exporter on a
# throw-away database with the addons installed). Run it after changing user-visible strings.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh
bash tools/bootstrap.sh >/dev/null || exit 2
addons=$(for d in */__manifest__.py; do dirname "$d"; done | paste -sd, -)
db="cloudsync_i18n_$(date +%s)_$$"
odoo() {
  .venv/bin/python "$ODOO_PATH/odoo-bin" --addons-path="$ODOO_PATH/odoo/addons,$ODOO_PATH/addons,$here" \
      --db_host="$PGHOST" --db_port="$PGPORT" --db_user="$PGUSER" --db_password="$PGPASSWORD" \
      -d "$db" --without-demo=all --log-level=warn --stop-after-init "$@"
}
odoo -i "$addons" || { echo "i18n: install failed" >&2; exit 1; }
rc=0
for addon in ${addons//,/ }; do
  mkdir -p "$addon/i18n"
  if odoo --i18n-export="$addon/i18n/$addon.pot" --modules="$addon"; then
    echo "i18n: $addon/i18n/$addon.pot ($(grep -c '^msgid ' "$addon/i18n/$addon.pot") strings)"
  else
    rc=1
  fi
done
dropdb --if-exists -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$db" >/dev/null 2>&1 || true
exit "$rc"
