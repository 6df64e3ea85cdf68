"""Makes the repository's loopback emulators (``tests/cloud_emulators``) importable from the
add-ons' tests, whatever ``PYTHONPATH`` the test runner was started with.

The emulators are test tools shared by every provider add-on and the suite-wide pytest tests;
they live in the repository's ``tests/`` folder, next to the add-ons. Importing this module
(``from odoo.addons.cloud_base.tests import emulators``) locates that folder from this
add-on's own path and appends it to ``sys.path``, so that ``import cloud_emulators.dropbox``
works afterwards. It changes nothing when the folder is already importable (pytest's
``tests/conftest.py``) and does nothing when the add-ons are deployed without it.
"""
import os
import sys

#: the repository's ``tests/`` folder: ``<repository>/cloud_base/tests/emulators.py`` -> up 3
TESTS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests")

#: whether the emulators can be imported
AVAILABLE = os.path.isfile(os.path.join(TESTS_DIR, "cloud_emulators", "__init__.py"))

if AVAILABLE and not any(os.path.abspath(path or os.curdir) == TESTS_DIR for path in sys.path):
    # appended, not prepended: nothing in tests/ may shadow an installed package
    sys.path.append(TESTS_DIR)
