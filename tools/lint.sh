#!/usr/bin/env bash
# `make lint`: ruff (pycodestyle, pyflakes, bugbear) and pylint-odoo (Odoo's own checks) on
# the addons, tests and tools. Their configuration: ruff.toml and setup.cfg. The linters live
# in their own virtualenv (.venv-lint) so that they never change Odoo's pinned packages.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
RUFF_VERSION=0.17.6
PYLINT_ODOO_VERSION=10.0.12
stamp=.venv-lint/.stamp
want="ruff==$RUFF_VERSION pylint-odoo==$PYLINT_ODOO_VERSION"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "lint: preparing .venv-lint ($want)"
  python3 -m venv .venv-lint && .venv-lint/bin/pip install -q $want || exit 2
  echo "$want" > "$stamp"
fi
addons=$(for d in */__manifest__.py; do dirname "$d"; done)
rc=0
echo "== ruff"
.venv-lint/bin/ruff check $addons tests tools || rc=1
echo "== pylint-odoo"
# cloud.client is extended by concept on purpose (OAuth, provider hooks, each engine's entry
# points), one file each: the suggestion to merge those classes does not apply
.venv-lint/bin/pylint --rcfile=setup.cfg --disable=consider-merging-classes-inherited \
    $addons || rc=1
[ "$rc" -eq 0 ] && echo "lint: clean"
exit "$rc"
