"""What OneDrive and SharePoint accept as an item name (the adapter's own guard).

The core cleans names before it sends them (``cloud_base/lib/names.py``: the characters
``" * : < > ? / \\ |`` among others, trimmed, no trailing dot). What only OneDrive/SharePoint
refuse besides is checked here, so that a refused name fails with a message an administrator
can act on instead of Graph's bare ``invalidRequest``:

* leading or trailing spaces, a trailing ``.``;
* reserved device names, with or without an extension (``CON``, ``PRN``, ``AUX``, ``NUL``,
  ``COM0``-``COM9``, ``LPT0``-``LPT9``), ``.lock``, ``desktop.ini``, names starting ``~$``,
  and ``_vti_`` anywhere in the name (SharePoint);
* more than 255 characters.
"""
import re

from odoo.addons.cloud_base.lib.adapter import InvalidRequest, check_item_name

GRAPH_MAX_NAME = 255
#: OneDrive/SharePoint limit the decoded path of an item to 400 characters
GRAPH_MAX_PATH = 400
FORBIDDEN_CHARS = re.compile(r'["*:<>?/\\|]')
RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
RESERVED_NAMES = {".lock", "desktop.ini"}


def graph_name_problem(name):
    """Why OneDrive/SharePoint would refuse ``name`` (a plain segment), or None."""
    if FORBIDDEN_CHARS.search(name):
        return 'the characters " * : < > ? / \\ | are not allowed'
    if name != name.strip(" "):
        return "leading or trailing spaces are not allowed"
    if name.endswith("."):
        return "a name may not end with a dot"
    if RESERVED.match(name) or name.lower() in RESERVED_NAMES or name.startswith("~$"):
        return "the name is reserved by OneDrive/SharePoint"
    if "_vti_" in name.lower():
        return "SharePoint does not allow _vti_ in names"
    return None


def check_graph_name(name, path=None):
    """``name`` if OneDrive/SharePoint accept it, else :class:`InvalidRequest`."""
    check_item_name(name, GRAPH_MAX_NAME, reject_blank=True, reject_control=True,
                    code="invalidName", path=path)
    problem = graph_name_problem(name)
    if problem:
        raise InvalidRequest("OneDrive/SharePoint refuse the name: %s" % problem,
                             code="invalidName", path=path)
    return name
