"""Dates as registries write them, RDAP's and port 43's alike, in one normal form.

The normal form: RFC 3339 in UTC ("2020-11-09T07:01:43Z"), with the precision the registry gave
(fractional seconds when it wrote them; "2020-11-09" stays a day); a time written without a time
zone is read as UTC and the reading says so (`no_zone`), so that the data can say it.

python-whois turns "before Aug-1996" into 1996-08-01, gives UTC to dates that name no time zone
without saying so, and fails on the whole answer for one date it does not know. Here a date is
read without inventing what is not there: None with the reason when it is imprecise ("before
Aug-1996", "Aug-1996"), ambiguous (a slashed "03/02/2020" when nothing says whether the day or the
month comes first) or unknown. The numeric forms are read with datetime.fromisoformat after
reordering day-first and slashed or dotted dates (dateutil reads "2020-11-09" as 11 September when
told that days come first, as .cz or .fi dates need); the forms with month or day names go to
dateutil, asked twice with different defaults, so that a part the text lacks shows as a
difference instead of being filled in. Time-zone names and "GMT+3" are read here: dateutil knows no
abbreviation but UTC, and reads "UTC+8" the POSIX way, as UTC-8."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

__all__ = ["DateReading", "SlashOrder", "read_date", "slash_order"]

SlashOrder = Literal["day", "month"]
"""What comes first in a slashed date: "03/02/2020" is 3 February day first, 2 March month first."""

_QUALIFIERS = ("before", "after", "prior to", "circa", "about", "around", "approx", "since", "until", "ca.")
_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)[ \t]*([+-])[ \t]*(\d{1,2})(?::?(\d{2}))?")  # GMT+0:00, UTC+8, UTC+05:30
# Abbreviations registries write, in minutes east of UTC; ambiguous ones (CST, IST) are not here.
_ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "MET": 60,
    "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "HKT": 480, "SGT": 480, "AWST": 480, "JST": 540, "KST": 540,
    "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780, "EST": -300, "EDT": -240, "CDT": -300, "MST": -420,
    "MDT": -360, "PST": -480, "PDT": -420, "HST": -600, "CLT": -240, "CLST": -180,
}  # fmt: skip
# Registries whose slashed dates come month first or day first, for an answer that holds no
# evidence of its own (a part above 12). Freenom's registries write "Record will expire on:
# 12/18/2001"; DNS.PT and AFNIC's old layout write "28/02/2022".
_SLASH_ORDER_BY_TLD: dict[str, SlashOrder] = {
    "tk": "month", "ml": "month", "ga": "month", "cf": "month", "gq": "month",
    "pt": "day", "fr": "day", "re": "day", "pm": "day", "tf": "day", "wf": "day", "yt": "day",
}  # fmt: skip
_YEAR_FIRST = re.compile(r"(\d{4})[./](\d{1,2})[./](\d{1,2})(.*)")  # 2002.09.19 13:00:00, 2001/03/22
_DAY_FIRST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})(.*)")  # 19.09.1997 02:00:00, 4.7.2021, 03/02/2020
_SLASHED = re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/\d{4}(?![\w/])")
_ISO_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_DASH_T = re.compile(r"(?<=\d)-(?=T\d)")  # "2001-06-14-T10:32:43Z"
_FRACTION = re.compile(r"\d:\d{2}[.,](\d+)")  # the fractional seconds the registry wrote
_PARTIAL = re.compile(r"\d{4}(?:[-./]\d{1,2})?|\d{1,2}[-./]\d{4}")  # 1996, 1996-08, 08/1996
_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1))
_TEXT_MAX = 256  # the longest date text read (WHOIS_LINE_MAX, the port-43 reader's line)


class _Ambiguous(ValueError):
    """A slashed date whose order nothing decides."""


@dataclass(frozen=True)
class DateReading:
    value: str | None
    """RFC 3339 in UTC ("1999-06-07T13:01:43Z") or a day ("2020-11-09"), or None when the text is
    no precise date."""
    problem: str | None = None
    """Why the value is None (or was read as UTC), for the result's warnings."""
    no_zone: bool = False
    """The registry gave a time without a time zone: it was read as UTC."""


def slash_order(texts: Iterable[str], tld: str = "") -> SlashOrder | None:
    """Whether the slashed dates of one answer (`texts`, its values) come day or month first: from
    the evidence in them (a part from 13 to 31 is a day, so the other is the month), else
    from the registry's known habit (`tld`); None when neither says, or the evidence disagrees."""
    seen: set[SlashOrder] = set()
    for text in texts:
        for found in _SLASHED.finditer(text):
            first, second = int(found.group(1)), int(found.group(2))
            if 0 < second <= 12 < first <= 31:
                seen.add("day")
            elif 0 < first <= 12 < second <= 31:  # not "Suite 12/34/5678": a day is at most 31
                seen.add("month")
    if len(seen) == 1:
        return seen.pop()
    return None if seen else _SLASH_ORDER_BY_TLD.get(tld.lower().rsplit(".", 1)[-1])


def read_date(text: str, slashes: SlashOrder | None = None) -> DateReading:
    """One registry date (an RDAP eventDate, or a port-43 line's value of at most WHOIS_LINE_MAX
    characters); `slashes` says what comes first in a slashed date whose parts do not say."""
    if len(text) > _TEXT_MAX:  # an RDAP member can be any length: no date is read out of a long text
        return DateReading(None, "unknown date format")
    rest = text.split("#", 1)[0].strip()  # "19961206 #24302"
    rest = re.sub(r"(?<=\d)\. +(?=\d)", ".", rest).rstrip(".")  # "1999. 08. 23.", "2001-Aug-23."
    if rest.lower().startswith(_QUALIFIERS):
        return DateReading(None, "imprecise date")
    rest, offset, unknown_zone = _zone(_DASH_T.sub("", rest))
    try:
        named = any(c.isalpha() and c not in "TZ" for c in rest)
        when, has_time = _named(rest) if named else _numeric(rest, slashes)
        if when is None:
            return DateReading(None, "imprecise date")
        if not has_time:
            return DateReading(when.date().isoformat())
        if when.tzinfo is None and offset is not None:
            when = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
        no_zone = when.tzinfo is None
        when = when.replace(tzinfo=UTC) if no_zone else when.astimezone(UTC)
    except _Ambiguous:
        return DateReading(None, "ambiguous date (day or month first)")
    except (ValueError, OverflowError, TypeError):
        return DateReading(None, "unknown date format")
    digits = min(len(found.group(1)), 6) if (found := _FRACTION.search(rest)) else 0
    fraction = f".{when.microsecond:06d}"[: digits + 1] if digits else ""
    problem = f"unknown time zone {unknown_zone!r} in" if unknown_zone and no_zone else None
    return DateReading(f"{when:%Y-%m-%dT%H:%M:%S}{fraction}Z", problem, no_zone)


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


def _numeric(text: str, slashes: SlashOrder | None) -> tuple[datetime | None, bool]:
    """A date of digits: ISO 8601 (and YYYYMMDD), year first with dots or slashes, or day first
    (with dots or dashes; with slashes, day or month first as the parts or `slashes` say); None
    for a year or a month alone."""
    if _PARTIAL.fullmatch(text):
        return None, False
    if found := _YEAR_FIRST.fullmatch(text):
        year, month, day, rest = found.groups()
        text = f"{year}-{int(month):02}-{int(day):02}{rest}"
    elif found := _DAY_FIRST.fullmatch(text):
        day, separator, month, year, rest = found.groups()
        if separator == "/" and int(day) <= 12 and int(month) <= 12 and day != month:
            if slashes is None:
                raise _Ambiguous(text)
            if slashes == "month":
                day, month = month, day
        elif int(month) > 12 >= int(day):  # 09/15/1997: the month came first after all
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
