"""Dates as sources write them: read from text, and checked for a sane range, with one wording for every kind.

Every message quotes the date as the source wrote it ("Fri, 31 Dec 9999 23:59:59 -1400"), not a value a
parser derived from it: feedparser, for one, turns "Mon, 01 Jan 0001 00:00:00 +1400" into the year 1400, and
folds any offset into UTC so that "+9900" silently moves a date by 99 hours.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from syndicator.errors import BadItem

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DAYS_AHEAD = 31  # an embargoed article may be dated a little ahead; years ahead is a typo
# The widest offset any real time zone has (Kiribati, +14:00; the Pacific west of the date line, -12:00): a
# larger one is a typo that would move the date by hours or days.
MAX_OFFSET = timedelta(hours=14)
EXAMPLE = "e.g. 2026-03-03T09:30:00+08:00"
# The year as RFC 822 writes it (day, month name, year): email.utils reads "0001" as the two-digit 2001.
_RFC822_YEAR = re.compile(r"^\s*(?:[A-Za-z]+,?\s*)?\d{1,2}\s+[A-Za-z]+\s+(\d{3,})\b")


class BadDate(BadItem):
    """A date a source wrote that cannot be used; the message quotes it and says what to do."""


def _shown(written: str) -> str:
    text = " ".join(written.split())
    return text if len(text) <= 80 else text[:80] + "…"


def _offset_ok(offset: timedelta | None) -> bool:
    return offset is None or -MAX_OFFSET <= offset <= MAX_OFFSET


def read_date(written: str, tz: tzinfo) -> datetime | None:
    """A date as written (ISO 8601/RFC 3339, RFC 822 as RSS writes it, or a common written form) → an aware
    datetime keeping its own offset (`tz` when it has none); None when it cannot be read (`unreadable` says
    so), BadDate when its offset is beyond ±14:00. Whether it is in a sane range is `check_date`'s to say."""
    text = written.strip()
    if not text:
        return None
    moment = _iso(text) or _rfc822(text, written) or _common(text)
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    if not _offset_ok(_offset(moment)):
        raise _bad_offset(written)
    return moment


def unreadable(written: str) -> BadDate:
    """The problem of a date that is written but cannot be read."""
    return BadDate(f"date {_shown(written)!r} is not a date that can be read; give one like {EXAMPLE}")


def _offset(moment: datetime) -> timedelta | None:
    try:
        return moment.utcoffset()
    except ValueError:  # dateutil builds zones of any width; Python refuses them once asked
        return MAX_OFFSET * 2


def _bad_offset(written: str) -> BadDate:
    return BadDate(
        f"date {_shown(written)!r} has a time zone offset beyond ±14:00, which no place uses; "
        f"check it ({EXAMPLE})"
    )


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _rfc822(text: str, written: str) -> datetime | None:
    parts = email.utils.parsedate_tz(text)
    if parts is None:
        return None
    *fields, offset = parts
    written_year = _RFC822_YEAR.match(text)
    if written_year:
        fields[0] = int(written_year.group(1))
    if offset is not None and not _offset_ok(timedelta(seconds=offset)):
        raise _bad_offset(written)
    try:
        zone = timezone(timedelta(seconds=offset)) if offset is not None else None
        year, month, day, hour, minute, second = fields[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None


def _common(text: str) -> datetime | None:
    from dateutil import parser as dateparser  # only for dates neither ISO 8601 nor RFC 822

    try:
        moment = dateparser.parse(text, fuzzy=False)
    except (ValueError, OverflowError, TypeError):
        return None
    return moment if isinstance(moment, datetime) else None


def _iso_text(moment: datetime) -> str:
    try:
        return moment.isoformat()
    except ValueError:  # a zone wider than a day cannot even be printed
        return f"{moment.replace(tzinfo=None).isoformat()} (offset of a day or more)"


def check_date(moment: datetime, now: datetime, written: str = "") -> datetime:
    """`moment` when it has a time zone of at most ±14:00 and lies between 1900 and `MAX_DAYS_AHEAD` days
    after `now`; BadDate quoting `written` (else the date itself) otherwise."""
    shown = repr(_shown(written or _iso_text(moment)))
    if moment.tzinfo is None or _offset(moment) is None:
        raise BadDate(f"date {shown} has no time zone")
    if not _offset_ok(_offset(moment)):
        raise _bad_offset(written or _iso_text(moment))
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadDate(f"date {shown} is out of range in UTC; give a real date, {EXAMPLE}") from None
    if utc < EARLIEST:
        raise BadDate(f"date {shown} is before 1900: check the year")
    if utc > now + timedelta(days=MAX_DAYS_AHEAD):
        raise BadDate(
            f"date {shown} is more than {MAX_DAYS_AHEAD} days ahead: check the year, "
            "or add the article when it is due"
        )
    return moment
