"""Relative periods of sync rules (R-RULE-3): "last/next N days|weeks|months|years"."""
import datetime

from dateutil.relativedelta import relativedelta


def _unit_start(day, unit):
    if unit == "days":
        return day
    if unit == "weeks":
        return day - datetime.timedelta(days=day.weekday())
    if unit == "months":
        return day.replace(day=1)
    if unit == "years":
        return day.replace(month=1, day=1)
    raise ValueError("unknown unit %r" % unit)


def _step(unit, count):
    return relativedelta(**{unit: count})


def period_range(today, direction, count, unit, including_current):
    """The ``[start, end]`` dates (both included) of a period relative to ``today``.

    "last 2 months" on 2020-09-25 is July 1 – August 31; including the current month it is
    August 1 – September 30. "next" periods mirror that forward.
    """
    count = max(int(count or 0), 1)
    current_start = _unit_start(today, unit)
    next_start = current_start + _step(unit, 1)
    if direction == "last":
        if including_current:
            start = current_start - _step(unit, count - 1)
            end = next_start - datetime.timedelta(days=1)
        else:
            start = current_start - _step(unit, count)
            end = current_start - datetime.timedelta(days=1)
    elif direction == "next":
        if including_current:
            start = current_start
            end = current_start + _step(unit, count) - datetime.timedelta(days=1)
        else:
            start = next_start
            end = next_start + _step(unit, count) - datetime.timedelta(days=1)
    else:
        raise ValueError("unknown direction %r" % direction)
    return start, end


def periods_domain(periods, today, field_types):
    """Odoo domain for period lines ``[(field, direction, count, unit, including)]``: lines on
    the same field are ORed, different fields ANDed. ``field_types``: {field: 'date'|'datetime'}.
    """
    by_field = {}
    for field, direction, count, unit, including in periods:
        by_field.setdefault(field, []).append(
            period_range(today, direction, count, unit, including))
    domain = []
    for field in sorted(by_field):
        clauses = []
        for start, end in by_field[field]:
            if field_types.get(field) == "datetime":
                low = datetime.datetime.combine(start, datetime.time.min)
                high = datetime.datetime.combine(end, datetime.time.max).replace(microsecond=0)
                clauses.append(["&", (field, ">=", low.strftime("%Y-%m-%d %H:%M:%S")),
                                (field, "<=", high.strftime("%Y-%m-%d %H:%M:%S"))])
            else:
                clauses.append(["&", (field, ">=", start.isoformat()),
                                (field, "<=", end.isoformat())])
        domain += ["|"] * (len(clauses) - 1)
        for clause in clauses:
            domain += clause
    return domain
