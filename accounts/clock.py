"""Time, in one place: store UTC, show Asia/Ho_Chi_Minh as dd/mm/yyyy.

Tests move time with time-machine, which patches `datetime.now`, so `now()` is the
only clock the code reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ)


def local_today() -> date:
    return to_local(now()).date()


def end_of_local_day(day: date) -> datetime:
    """23:59:59 local time on `day`, in UTC: a deadline "on 05/12" means the whole day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_datetime_to_utc(day: date, at: time | None = None) -> datetime:
    return datetime.combine(day, at or time(0, 0), tzinfo=LOCAL_TZ).astimezone(UTC)


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


# Tables repeat the same moments (a round's deadline on every row); formatting is pure.
@lru_cache(maxsize=4096)
def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def parse_date(text: str) -> date:
    """Accept dd/mm/yyyy (what users type) and yyyy-mm-dd (what date inputs send)."""
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def days_left(deadline: datetime, moment: datetime | None = None) -> int:
    """Whole local calendar days from today until the deadline's day (negative when past)."""
    today = to_local(moment or now()).date()
    return (to_local(deadline).date() - today).days


def add_days(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime that is always UTC in the database.

    SQLite has no time zones and hands back naive values; this type makes both
    databases return aware UTC datetimes and refuses naive ones on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
