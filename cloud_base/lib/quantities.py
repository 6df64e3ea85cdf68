"""Sizes and durations as an administrator reads them."""

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def format_bytes(size):
    """``1234567`` → ``"1.2 MB"`` (decimal units, as storage providers count)."""
    size = float(size or 0)
    for unit in _UNITS:
        if size < 1000 or unit == _UNITS[-1]:
            return ("%d %s" if unit == "B" else "%.1f %s") % (size, unit)
        size /= 1000
    return "%d B" % size  # not reached


def format_duration(seconds):
    """``4000`` → ``"1 h 07 min"``; under a minute: ``"< 1 min"``."""
    minutes = int(round((seconds or 0) / 60.0))
    if minutes < 1:
        return "< 1 min"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return "%d min" % minutes
    days, hours = divmod(hours, 24)
    if not days:
        return "%d h %02d min" % (hours, minutes)
    return "%d d %02d h" % (days, hours)
