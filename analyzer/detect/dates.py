"""Due dates in speech ("by Friday", "end of next week", "tomorrow morning", "the 15th"),
resolved against the call date when it is known."""
from __future__ import annotations

import calendar
import datetime as dt
import re

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [m.lower() for m in calendar.month_name if m]
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "ten": 10, "fourteen": 14}
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_COUNT = r"(\d+|a couple of|a couple|couple of|a few|an?|one|two|three|four|five|six|seven|ten|fourteen)"

# (regex, resolver(call_date, match) -> date); the first that matches wins, so order matters.
_RULES: list[tuple[re.Pattern[str], object]] = []


def _rule(regex: str):
    def register(fn):
        _RULES.append((re.compile(regex), fn))
        return fn
    return register


def _next_weekday(date: dt.date, weekday: int, strictly_after: bool = True) -> dt.date:
    days = (weekday - date.weekday()) % 7
    return date + dt.timedelta(days=days or (7 if strictly_after else 0))


@_rule(r"\bend of (?:the |this )?(?:business )?day\b|\b(?:eod|cob|close of business|today|tonight|this (?:afternoon|evening|morning))\b")
def _today(date, m):
    return date


@_rule(r"\b(?:tomorrow|first thing in the morning)\b")
def _tomorrow(date, m):
    return date + dt.timedelta(days=1)


@_rule(r"\bend of next week\b")
def _end_next_week(date, m):
    return date + dt.timedelta(days=4 - date.weekday() + 7)


@_rule(r"\b(?:end of (?:the |this )?week|eow|by the weekend|this week)\b")
def _end_this_week(date, m):
    return date + dt.timedelta(days=max(0, 4 - date.weekday()))


@_rule(r"\bnext week\b")
def _next_week(date, m):
    return date + dt.timedelta(days=7 - date.weekday())


@_rule(r"\bend of (?:the |this )?month\b")
def _end_month(date, m):
    return date.replace(day=calendar.monthrange(date.year, date.month)[1])


@_rule(r"\bend of (?:the |this )?quarter\b")
def _end_quarter(date, m):
    month = ((date.month - 1) // 3 + 1) * 3
    return dt.date(date.year, month, calendar.monthrange(date.year, month)[1])


@_rule(rf"\bnext ({'|'.join(_WEEKDAYS)})\b")
def _next_named_weekday(date, m):
    start_of_next_week = date + dt.timedelta(days=7 - date.weekday())
    return _next_weekday(start_of_next_week, _WEEKDAYS.index(m[1]), strictly_after=False)


@_rule(rf"\b({'|'.join(_WEEKDAYS)})\b")
def _weekday(date, m):
    return _next_weekday(date, _WEEKDAYS.index(m[1]))


@_rule(rf"\b(?:in|within) (?:the next )?{_COUNT} (hours?|days?|business days?|weeks?)\b")
def _in_count(date, m):
    count = int(m[1]) if m[1].isdigit() else _NUMBERS[m[1]]
    unit = m[2]
    days = count / 24 if unit.startswith("hour") else count * 7 if unit.startswith("week") else count
    return date + dt.timedelta(days=int(round(days + 0.49)) if unit.startswith("hour") else days)


@_rule(rf"\b(?:({'|'.join(_MONTHS)}) {_DAY}|{_DAY} (?:of )?({'|'.join(_MONTHS)}))\b")
def _month_day(date, m):
    month_name = m[1] or m[4]
    day = int(m[2] or m[3])
    month = _MONTHS.index(month_name) + 1
    try:
        candidate = dt.date(date.year, month, day)
    except ValueError:
        return None
    return candidate if candidate >= date else candidate.replace(year=date.year + 1)


@_rule(rf"\b(?:by|before|on|for) the {_DAY}\b")
def _day_of_month(date, m):
    day = int(m[1])
    for month_offset in (0, 1):
        year, month = divmod(date.month - 1 + month_offset, 12)
        try:
            candidate = dt.date(date.year + year, month + 1, day)
        except ValueError:
            continue
        if candidate >= date:
            return candidate
    return None


@_rule(rf"\b(?:{'|'.join(_WEEKDAYS)}),? the {_DAY}\b")
def _weekday_the_day(date, m):
    return _day_of_month(date, m)


# Explicit dates win over relative words in the same sentence ("this week … by October 2nd").
_EXPLICIT = (_month_day, _weekday_the_day, _day_of_month)
_RULES.sort(key=lambda rule: 0 if rule[1] in _EXPLICIT else 1)


def find_due(text: str, call_date: dt.date | None) -> tuple[str, dt.date | None]:
    """(the due phrase as said, the date it means or None)."""
    lowered = text.lower()
    for regex, resolve in _RULES:
        match = regex.search(lowered)
        if match:
            phrase = text[match.start():match.end()]
            return phrase, resolve(call_date, match) if call_date else None
    return "", None
