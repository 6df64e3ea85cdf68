"""pytest set-up for the suite-wide tests.

Puts ``tests/`` on ``sys.path`` (so ``import cloud_emulators`` works) and makes the repository's
addons importable as ``odoo.addons.<name>`` without a database, so the plain-Python parts of the
addons (``cloud_base.lib``, the provider adapters) can be tested directly. The contract suite
imports the harnesses the addons keep in ``<addon>/tests/harness.py``, which imports the addon's
``tests`` package (Odoo's test framework): Odoo's configuration is put in test mode first, as
``odoo-bin --test-enable`` does, so that Odoo does not log that import as a mistake.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ODOO_PATH = os.environ.get("ODOO_PATH", "/opt/odoo/18.0")

for path in (HERE, ODOO_PATH):
    if path not in sys.path:
        sys.path.insert(0, path)

try:
    import odoo.addons  # noqa: E402

    if REPO not in odoo.addons.__path__:
        odoo.addons.__path__.append(REPO)
    odoo.tools.config["test_enable"] = True
except ImportError:  # Odoo absent: only the emulator tests can run
    pass
