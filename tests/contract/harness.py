"""The harnesses the contract suite runs against, found in the add-ons that hold them.

A harness (base class and API: ``cloud_base/tests/harness.py``) wraps one adapter kind: its
emulator, fresh accounts, "a person in the cloud", fault injection, call counters. Each add-on
keeps its harness next to its own tests, in ``<addon>/tests/harness.py``, and lists it there::

    HARNESSES = [DropboxHarness]

This module imports ``odoo.addons.<addon>.tests.harness`` for every add-on of the repository
that has one (``cloud_base`` first: the in-memory reference harness) and collects their
``HARNESSES``; ``test_adapter_contract.py`` is parametrized over :data:`HARNESSES`. Adding a
provider's harness to the contract is writing that file: nothing here changes.
"""
from __future__ import annotations

import importlib
import os

from odoo.addons.cloud_base.tests.harness import (  # noqa: F401 - the suite's vocabulary
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, FAULTS, NOT_FOUND, QUOTA_EXCEEDED, RATE_LIMITED,
    TIMEOUT, TRANSIENT_5XX, AdapterHarness,
)

#: the repository: the add-ons are its folders holding a ``__manifest__.py``
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def addons_with_harness(repo=REPO):
    """Names of the repository's add-ons that hold ``tests/harness.py``, ``cloud_base``
    first, then alphabetical."""
    names = [name for name in os.listdir(repo)
             if os.path.isfile(os.path.join(repo, name, "__manifest__.py"))
             and os.path.isfile(os.path.join(repo, name, "tests", "harness.py"))]
    return sorted(names, key=lambda name: (name != "cloud_base", name))


def discover(repo=REPO):
    """Every harness class listed by the add-ons' ``tests/harness.py`` (``HARNESSES``)."""
    found = []
    for addon in addons_with_harness(repo):
        module = importlib.import_module("odoo.addons.%s.tests.harness" % addon)
        for harness in module.HARNESSES:
            if harness.name in {h.name for h in found}:
                raise ValueError("two harnesses are named %r (%s)" % (harness.name, addon))
            found.append(harness)
    return found


#: every harness the contract suite runs against
HARNESSES = discover()
