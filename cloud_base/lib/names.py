"""Cloud item names (R-NAME-2) and stable de-duplication (R-NAME-1)."""
import os
import re

FORBIDDEN = re.compile(r"[*?\"':<>|+%!@\\/]")
WHITESPACE = re.compile(r"\s+")
SUFFIX = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


def clean_name(name, max_length=255, fallback="-", keep_extension=False):
    """A name every provider accepts: forbidden characters become ``-``, whitespace is
    collapsed and trimmed, never empty, never ``.``/``..``, cut to ``max_length`` characters
    keeping the extension of a file name."""
    name = FORBIDDEN.sub("-", str(name or ""))
    name = WHITESPACE.sub(" ", name).strip().strip(".").strip()
    if not name:
        name = fallback
    if len(name) > max_length:
        stem, ext = os.path.splitext(name) if keep_extension else (name, "")
        if len(ext) >= max_length // 2:
            stem, ext = name, ""
        name = stem[:max_length - len(ext)].rstrip() + ext
    return name


def with_counter(name, counter, max_length=255, keep_extension=False):
    """``name (counter)``, inserted before the extension of a file name."""
    stem, ext = os.path.splitext(name) if keep_extension else (name, "")
    suffix = " (%d)" % counter
    stem = stem[:max_length - len(ext) - len(suffix)].rstrip()
    return stem + suffix + ext


def assign_unique(wanted, taken=(), max_length=255, keep_extension=False):
    """Give each key of ``wanted`` ({key: base name}) a name unique case-insensitively among
    themselves and ``taken``.

    ``wanted`` values are ``(base, current)`` pairs: ``current`` is the name the item has now
    (or None). An item whose current name is still valid for its base keeps it, so names do not
    flip-flop between runs; keys are then served in their sort order (stable).
    """
    used = {n.lower() for n in taken}
    result = {}
    # first pass: keep current names that still fit their base
    for key in sorted(wanted):
        base, current = wanted[key]
        if current and _fits(current, base, max_length, keep_extension) \
                and current.lower() not in used:
            result[key] = current
            used.add(current.lower())
    for key in sorted(wanted):
        if key in result:
            continue
        base = wanted[key][0]
        candidate, counter = base, 1
        while candidate.lower() in used:
            counter += 1
            candidate = with_counter(base, counter, max_length, keep_extension)
        result[key] = candidate
        used.add(candidate.lower())
    return result


def _fits(current, base, max_length, keep_extension):
    """Is ``current`` either ``base`` or ``base (n)``?"""
    if current == base:
        return True
    stem = os.path.splitext(current)[0] if keep_extension else current
    match = SUFFIX.match(stem)
    if not match:
        return False
    return with_counter(base, int(match.group("n")), max_length, keep_extension) == current
