"""Dates as registries write them in port-43 answers, read without inventing what is not there.

python-whois turns "before Aug-1996" into 1996-08-01, gives UTC to dates that name no time zone,
and fails on the whole answer for one date it does not know. Here a date is ISO 8601 with the
precision and the time zone the registry gave ("2020-11-09" stays a day; "+03:00" is kept), or
None with the reason: imprecise ("before Aug-1996", "Aug-1996") or unknown. The numeric forms are
read with datetime.fromisoformat after reordering day-first and slashed or dotted dates (dateutil
reads "2020-11-09" as 11 September when told that days come first, as .cz or .fi dates need); the
forms with month or day names go to dateutil, asked twice with different defaults, so that a part
the text lacks shows as a difference instead of being filled in. Time-zone names and "GMT+3" are
read here: dateutil knows no abbreviation but UTC, and reads "UTC+8" the POSIX way, as UTC-8.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["DateReading", "read_date"]

_QUALIFIERS = ("before", "after", "prior to", "circa", "about", "around", "approx", "since", "until", "ca.")
_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)[ \t]*([+-])[ \t]*(\d{1,2})(?::?(\d{2}))?")  # GMT+0:00, UTC+8, UTC+05:30
# Abbreviations registries write, in minutes east of UTC; ambiguous ones (CST, IST) are not here.
_ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "MET": 60,
    "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "HKT": 480, "SGT": 480, "AWST": 480, "JST": 540, "KST": 540,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780, "EST": -300, "EDT": -240, "CDT": -300, "MST": -420,
    "MDT": -360, "PST": -480, "PDT": -420, "HST": -600,
}  # fmt: skip
_YEAR_FIRST = re.compile(r"(\d{4})[./](\d{1,2})[./](\d{1,2})(.*)")  # 2002.09.19 13:00:00, 2001/03/22
_DAY_FIRST = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})(.*)")  # 19.09.1997 02:00:00, 4.7.2021
_ISO_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_PARTIAL = re.compile(r"\d{4}(?:[-./]\d{1,2})?|\d{1,2}[-./]\d{4}")  # 1996, 1996-08, 08/1996
_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1))


@dataclass(frozen=True)
class DateReading:
    value: str | None
    """ISO 8601 ("2020-11-09", "1999-06-07T13:01:43+00:00"), or None when the text is no precise date."""
    problem: str | None = None
    """Why the value is None (or lacks its time zone), for the result's warnings."""


def read_date(text: str) -> DateReading:
    """One registry date (a line's value: at most WHOIS_LINE_MAX characters)."""
    rest = text.split("#", 1)[0].strip()  # "19961206 #24302"
    rest = re.sub(r"(?<=\d)\. +(?=\d)", ".", rest).rstrip(".")  # "1999. 08. 23.", "2001-Aug-23."
    if rest.lower().startswith(_QUALIFIERS):
        return DateReading(None, "imprecise date")
    rest, offset, unknown_zone = _zone(rest)
    try:
        named = any(c.isalpha() and c not in "TZ" for c in rest)
        when, has_time = _named(rest) if named else _numeric(rest)
    except (ValueError, OverflowError, TypeError):
        return DateReading(None, "unknown date format")
    if when is None:
        return DateReading(None, "imprecise date")
    if not has_time:
        return DateReading(when.date().isoformat())
    if when.tzinfo is None and offset is not None:
        when = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    problem = f"unknown time zone {unknown_zone!r} in" if unknown_zone and when.tzinfo is None else None
    return DateReading(when.isoformat(), problem)


def _zone(text: str) -> tuple[str, int | None, str | None]:
    """The text without its time zone, the zone's offset in minutes (None: none given) and the
    name of a zone it gives but that is not known. Parenthesised notes ("(YYYY-MM-DD)") go too."""
    offset = None
    if found := _OFFSET.search(text):
        sign = -1 if found.group(1) == "-" else 1
        offset = sign * (int(found.group(2)) * 60 + int(found.group(3) or 0))
        text = text[: found.start()] + text[found.end() :]
    words = text.replace("(", " ( ").replace(")", " ) ").split()
    kept, depth, unknown = [], 0, None
    for word in words:
        if word in "()":
            depth = max(0, depth + (1 if word == "(" else -1))
            continue
        name = word.isupper() and word.isalpha() and len(word) <= 5 and word not in ("AM", "PM")
        if name and (depth or word == words[-1] or words[-1] == ")"):
            if word in _ZONES and offset is None:
                offset = _ZONES[word]
            elif word not in _ZONES:
                unknown = word
            continue
        if not depth:
            kept.append(word)
    return " ".join(kept), offset, unknown


def _numeric(text: str) -> tuple[datetime | None, bool]:
    """A date of digits: ISO 8601 (and YYYYMMDD), year first with dots or slashes, or day first;
    None for a year or a month alone."""
    if _PARTIAL.fullmatch(text):
        return None, False
    if found := _YEAR_FIRST.fullmatch(text):
        year, month, day, rest = found.groups()
        text = f"{year}-{int(month):02}-{int(day):02}{rest}"
    elif found := _DAY_FIRST.fullmatch(text):
        day, month, year, rest = found.groups()
        if int(month) > 12 >= int(day):  # 09/15/1997: the month came first after all
            day, month = month, day
        text = f"{year}-{int(month):02}-{int(day):02}{rest}"
    date = _ISO_DATE.match(text)
    if date is None:
        raise ValueError(text)
    return datetime.fromisoformat(text), bool(text[date.end() :].strip())


def _named(text: str) -> tuple[datetime | None, bool]:
    """A date with month or day names ('11-Jun-2014', 'Tue Dec 12 2000', '30th April 2003 at
    00:00:00.000'): None when a part of the date is missing, as in 'Aug-1996'."""
    from dateutil import parser as dateutil_parser  # here: 25 ms to import, and only port-43 text needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateutil warns of zone names it does not know
        first, second = (dateutil_parser.parse(text, default=default) for default in _DEFAULTS)
    if first.date() != second.date():
        return None, False
    return first, (first.hour, first.minute) == (second.hour, second.minute)
