"""Cloud item names (R-NAME-2) and stable de-duplication (R-NAME-1).

Names are NFC-normalised (a name typed on macOS and the same name typed elsewhere are one
name) and cut to the provider's limit, counted in characters or in UTF-8 bytes
(``Capabilities.name_length_unit``), never in the middle of a character.
"""
import os
import re
import unicodedata

FORBIDDEN = re.compile(r"[*?\"':<>|+%!@\\/]")
WHITESPACE = re.compile(r"\s+")
#: names Windows (and so OneDrive and SharePoint) reserve, with or without an extension
RESERVED_STEMS = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)
RESERVED_NAMES = {".lock", "desktop.ini"}
SUFFIX = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")
#: names the suite gives a new version while it uploads it, before it replaces the old one
TEMPORARY_PREFIX = "~odoo-"
TEMPORARY_NAME = re.compile(r"^~odoo-\d+-")

#: Where a provider limits whole paths (``StorageAdapter.max_path_length``), the share of
#: that limit each level of the suite's tree may use: the root folder, a rule's folder and a
#: record's folder; a file gets what the caps of its folders leave; default folders split
#: what is left below their record's folder. The caps, not the lengths of the names above,
#: decide: a name does not depend on its neighbours, and renaming a folder within its cap
#: never makes a path below it too long.
PATH_SHARES = {"root": 0.10, "rule": 0.15, "object": 0.30}
#: what a file name leaves for the temporary name of its next version (``~odoo-<id>-``)
TEMPORARY_ROOM = len(TEMPORARY_PREFIX) + 13
#: a file name is never cut shorter than this (its extension and a few characters)
MIN_FILE_NAME = 16


def level_cap(max_path, kind, max_length=255):
    """Longest name of a folder of ``kind`` ("root", "rule", "object") under a path limit
    (None: ``max_length``)."""
    if not max_path or kind not in PATH_SHARES:
        return max_length
    return max(1, min(max_length, int(max_path * PATH_SHARES[kind]) - 1))


def default_folder_cap(max_path, depth, max_length=255):
    """Longest name of a default folder when the rule's default tree is ``depth`` levels
    deep: they share what the root, rule and record levels leave."""
    if not max_path:
        return max_length
    left = max_path - sum(level_cap(max_path, kind, max_length) + 1 for kind in PATH_SHARES)
    return max(1, min(max_length, left // max(depth, 1) - 1))


def file_name_cap(max_path, folder_levels, max_length=255, temporary=False):
    """Longest name of a file in a folder whose path is ``folder_levels`` (``(kind, name)``
    from the root folder down): the caps of the suite's levels count whole, any other
    folder (a subfolder made in the cloud) by its name; a final name keeps room for the
    temporary name of its next version."""
    if not max_path:
        return max_length
    used = sum((level_cap(max_path, kind, max_length) if kind in PATH_SHARES
                else len(name)) + 1 for kind, name in folder_levels)
    room = max_path - used - 1 - (0 if temporary else TEMPORARY_ROOM)
    return max(MIN_FILE_NAME, min(max_length, room))


def name_length(name, unit="chars"):
    """Length of ``name`` as the provider counts it: characters, or bytes of UTF-8."""
    return len(name.encode("utf-8")) if unit == "bytes" else len(name)


def cut(text, length, unit="chars"):
    """The longest start of ``text`` of at most ``length`` (characters or UTF-8 bytes)."""
    if length <= 0:
        return ""
    if unit != "bytes":
        return text[:length]
    return text.encode("utf-8")[:length].decode("utf-8", "ignore")


def name_key(name, case_sensitive=False):
    """What two names are compared by: NFC, and case-folded unless the storage tells
    ``Report.pdf`` and ``report.pdf`` apart."""
    name = unicodedata.normalize("NFC", name or "")
    return name if case_sensitive else name.casefold()


def clean_name(name, max_length=255, fallback="-", keep_extension=False, unit="chars"):
    """A name every provider accepts: NFC-normalised, forbidden characters become ``-``,
    whitespace is collapsed and trimmed, names a storage or a desktop reserves changed
    (:func:`_unreserved`), never empty, never ``.``/``..``, cut to
    ``max_length`` (characters or UTF-8 bytes, see ``unit``) keeping the extension of a file
    name."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = FORBIDDEN.sub("-", name)
    name = WHITESPACE.sub(" ", name).strip().strip(".").strip()
    name = _unreserved(name)
    if not name:
        name = fallback
    if name_length(name, unit) > max_length:
        stem, ext = os.path.splitext(name) if keep_extension else (name, "")
        if name_length(ext, unit) >= max_length // 2:
            stem, ext = name, ""
        name = cut(stem, max_length - name_length(ext, unit), unit).rstrip() + ext
    return name


def _unreserved(name):
    """``name``, changed as little as possible when a storage or a desktop reserves it:
    device names (``CON``, ``com1.txt``, ``NUL.tar.gz``) get ``_`` after the device name,
    ``desktop.ini`` a ``_`` before its extension, a leading ``~$`` (Office's lock files) and
    SharePoint's ``_vti_`` lose their last character."""
    device, dot, rest = name.partition(".")
    if RESERVED_STEMS.match(device):
        name = device + "_" + dot + rest
    elif name.lower() in RESERVED_NAMES:
        stem, ext = os.path.splitext(name)
        name = stem + "_" + ext
    if name.startswith("~$"):
        name = "~-" + name[2:]
    return re.sub("_vti_", "_vti-", name, flags=re.IGNORECASE)


def with_counter(name, counter, max_length=255, keep_extension=False, unit="chars"):
    """``name (counter)``, inserted before the extension of a file name."""
    stem, ext = os.path.splitext(name) if keep_extension else (name, "")
    suffix = " (%d)" % counter
    room = max_length - name_length(ext, unit) - name_length(suffix, unit)
    return cut(stem, room, unit).rstrip() + suffix + ext


def assign_unique(wanted, taken=(), max_length=255, keep_extension=False, unit="chars"):
    """Give each key of ``wanted`` ({key: base name}) a name unique among themselves and
    ``taken``, compared case-insensitively and NFC-normalised (even where the storage tells
    case apart: people open these folders on desktops that do not).

    ``wanted`` values are ``(base, current)`` pairs: ``current`` is the name the item has now
    (or None). An item whose current name is still valid for its base keeps it, so names do not
    flip-flop between runs, except that a counted name (``base (2)``) goes back to ``base``
    once nothing holds that any more; keys are then served in their sort order (stable).
    """
    used = {name_key(n) for n in taken}
    result = {}
    # first pass: keep current names that are their base, then those that still fit it
    for exact in (True, False):
        for key in sorted(wanted):
            base, current = wanted[key]
            if key in result or not current or (current == base) != exact \
                    or not _fits(current, base, max_length, keep_extension, unit):
                continue
            if not exact and name_key(base) not in used:
                current = base  # the name it was counted away from is free again
            if name_key(current) not in used:
                result[key] = current
                used.add(name_key(current))
    for key in sorted(wanted):
        if key in result:
            continue
        base = wanted[key][0]
        candidate, counter = base, 1
        while name_key(candidate) in used:
            counter += 1
            candidate = with_counter(base, counter, max_length, keep_extension, unit)
        result[key] = candidate
        used.add(name_key(candidate))
    return result


def _fits(current, base, max_length, keep_extension, unit="chars"):
    """Is ``current`` either ``base`` or ``base (n)``?"""
    if current == base:
        return True
    stem = os.path.splitext(current)[0] if keep_extension else current
    match = SUFFIX.match(stem)
    if not match:
        return False
    return with_counter(base, int(match.group("n")), max_length, keep_extension,
                        unit) == current




def temporary_name(attachment_id, name):
    """The name a new version of ``name`` is uploaded under, next to the version it replaces
    (which is deleted only once the new one is verified)."""
    return "%s%d-%s" % (TEMPORARY_PREFIX, attachment_id, name)


def is_temporary_name(name):
    """A version being uploaded by the suite: backward sync leaves it alone."""
    return bool(TEMPORARY_NAME.match(name or ""))
