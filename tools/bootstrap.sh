#!/usr/bin/env bash
# Prepare everything `make test` and `make demo` need; idempotent and fast the second time.
#  - finds Odoo 18.0 ($ODOO_PATH, else /opt/odoo/18.0; clones upstream when missing and allowed)
#  - a virtualenv in .venv with Odoo's requirements and ours, resolved in one pip call
#  - PostgreSQL 15 running, with a login role for Odoo (never `postgres`)
#  - Debian's chromium for the browser tours
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. tools/env.sh

if [ ! -f "$ODOO_PATH/odoo/release.py" ]; then
  if [ "${ODOO_CLONE:-1}" = 1 ] && git ls-remote https://github.com/odoo/odoo.git 18.0 >/dev/null 2>&1; then
    echo "bootstrap: cloning upstream Odoo 18.0 into $ODOO_PATH"
    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$ODOO_PATH"
  else
    cat >&2 <<EOT
bootstrap: no Odoo 18.0 source at $ODOO_PATH.
  Put an Odoo 18.0 checkout there (or set ODOO_PATH), e.g.
    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git $ODOO_PATH
  On machines without internet, unpack it with ../shared/bin/odoo-setup <git dir>.
EOT
    exit 2
  fi
fi

# --- virtualenv ---------------------------------------------------------------------------
stamp=.venv/.bootstrap-stamp
want=$(cat "$ODOO_PATH/requirements.txt" requirements.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: preparing .venv (Odoo requirements + ours, one resolution)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  tmp=$(mktemp -d)
  echo 'setuptools<70' > "$tmp/constraints.txt"
  # python-ldap needs Debian's LDAP headers and only serves auth_ldap, which the suite never uses.
  grep -v -i '^python-ldap' "$ODOO_PATH/requirements.txt" > "$tmp/odoo-requirements.txt"
  PIP_CONSTRAINT="$tmp/constraints.txt" .venv/bin/pip install -q 'setuptools<70' wheel
  PIP_CONSTRAINT="$tmp/constraints.txt" .venv/bin/pip install -q \
      -r "$tmp/odoo-requirements.txt" -r requirements.txt
  rm -rf "$tmp"
  echo "$want" > "$stamp"
fi
# Odoo's pins and our SDKs must stay compatible: a broken set stops everything
.venv/bin/pip check >/dev/null || { .venv/bin/pip check; echo "bootstrap: pip check failed" >&2; exit 3; }

# --- PostgreSQL ---------------------------------------------------------------------------
if ! pg_isready -q -h localhost -p "$PGPORT" 2>/dev/null; then
  echo "bootstrap: starting PostgreSQL"
  pg_ctlcluster 15 main start || true
  for _ in $(seq 30); do pg_isready -q -h localhost -p "$PGPORT" && break; sleep 1; done
fi
if ! PGPASSWORD=$PGPASSWORD psql -h localhost -p "$PGPORT" -U "$PGUSER" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  echo "bootstrap: creating PostgreSQL role $PGUSER"
  # a login shell, so that our PG* variables do not leak into the superuser's psql
  sql="DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$PGUSER') THEN CREATE ROLE $PGUSER; END IF; END\$\$; ALTER ROLE $PGUSER LOGIN CREATEDB PASSWORD '$PGPASSWORD';"
  su - postgres -c "psql -q -p $PGPORT -v ON_ERROR_STOP=1" <<<"$sql"
fi

# --- Chromium for HttpCase tours -------------------------------------------------------------
if [ "${SKIP_CHROMIUM:-0}" != 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "bootstrap: installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "bootstrap: WARNING chromium could not be installed; browser tours will fail" >&2
fi
echo "bootstrap: ready (Odoo at $ODOO_PATH, venv .venv, PostgreSQL role $PGUSER)"
