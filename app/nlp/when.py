"""The `when` slot: the start of the time a resident names ("明天下午三点", "后天", "周六上午"), relative to now.

Conventions (documented because "start of the time expressed" needs a choice for parts of the day):
a date alone → 00:00 of that date; 早上 06:00, 上午 08:00, 中午 12:00, 下午 13:00, 傍晚 17:00, 晚上 18:00,
凌晨/半夜 00:00; an hour without a part of the day from 1 to 6 is afternoon ("明天三点" → 15:00).
A time of day alone that has passed today means tomorrow; a weekday alone means its next occurrence (today counts).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from app.clock import TZ, localize
from app.nlp.text import digits

_PARTS = {"凌晨": 0, "半夜": 0, "早上": 6, "早晨": 6, "清早": 6, "一早": 6, "大早": 6, "上午": 8, "中午": 12,
          "下午": 13, "午后": 13, "傍晚": 17, "晚上": 18, "今晚": 18, "明晚": 18, "今早": 6, "明早": 6,
          "夜里": 18}
_PM_PARTS = {"下午", "午后", "傍晚", "晚上", "今晚", "明晚", "夜里"}
_DAYS = {"大后天": 3, "后天": 2, "明天": 1, "明儿": 1, "明日": 1, "明早": 1, "明晚": 1, "今天": 0, "今儿": 0,
         "今日": 0, "今早": 0, "今晚": 0, "今天晚上": 0, "当天": 0}
_WEEKDAY = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "日": 6, "天": 6, "7": 6, "末": 5}

_DAY_RE = re.compile("|".join(sorted(_DAYS, key=len, reverse=True)))
_WEEK_RE = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([1-7日天末])")
_MONTH_DAY_RE = re.compile(r"(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*(?:号|日)(?!\s*[\d楼栋幢座单元门室房线])")
_IN_DAYS_RE = re.compile(r"(\d{1,2})\s*天(?:以?后|之后)")
_IN_HOURS_RE = re.compile(r"(\d{1,2}|半)\s*(?:个)?\s*(小时|钟头)(?:以?后|之后)")
_PART_RE = re.compile("|".join(sorted(_PARTS, key=len, reverse=True)))
_CLOCK_RE = re.compile(r"(\d{1,2})\s*(?:[:：]\s*(\d{2})|点\s*(半|(\d{1,2})\s*分?)?|点钟)")
_NOW_RE = re.compile(r"马上|立刻|立即|赶紧|现在就")
_GREETING_WORDS = re.compile(r"早上好|晚上好|下午好|中午好|上午好|早安|晚安")


def extract_when(text: str, now: datetime, loose: bool = True) -> datetime | None:
    """The aware datetime (Asia/Shanghai) a cleaned message names, or None when it names no time.

    With loose=False a part of the day alone ("晚上不亮") is a habit, not a time, and is ignored; only a date,
    a clock time or a relative time counts. Appointments (home services) use loose=True.
    """
    view = _GREETING_WORDS.sub(" ", digits(text))
    now = localize(now)
    day, explicit_day = _day(view, now)
    clock_time = _clock(view)
    if not loose and day is None and clock_time is not None and not _CLOCK_RE.search(view):
        clock_time = None
    if day is None and clock_time is None:
        relative = _relative(view, now)
        return relative
    if day is None:
        day = now.date()
    moment = datetime.combine(day, clock_time or time(0), tzinfo=TZ)
    if clock_time is not None and not explicit_day and moment < now:
        moment += timedelta(days=1)
    return moment


def _day(view: str, now: datetime) -> tuple[date | None, bool]:
    today = now.date()
    match = _DAY_RE.search(view)
    if match:
        return today + timedelta(days=_DAYS[match.group(0)]), True
    match = _WEEK_RE.search(view)
    if match:
        prefix, target = match.group(1) or "", _WEEKDAY[match.group(2)]
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("下下"):
            return monday + timedelta(days=14 + target), True
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + target), True
        if prefix:
            return monday + timedelta(days=target), True
        ahead = (target - today.weekday()) % 7
        return today + timedelta(days=ahead), True
    match = _MONTH_DAY_RE.search(view)
    if match:
        month = int(match.group(1)) if match.group(1) else today.month
        day_of_month = int(match.group(2))
        candidate = _safe_date(today.year, month, day_of_month)
        if candidate is None:
            return None, False
        if candidate < today:
            if match.group(1):
                candidate = _safe_date(today.year + 1, month, day_of_month)
            else:
                next_month = month % 12 + 1
                candidate = _safe_date(today.year + (month == 12), next_month, day_of_month)
        return candidate, candidate is not None
    match = _IN_DAYS_RE.search(view)
    if match:
        return today + timedelta(days=int(match.group(1))), True
    return None, False


def _clock(view: str) -> time | None:
    part_match = _PART_RE.search(view)
    part = part_match.group(0) if part_match else None
    match = _CLOCK_RE.search(view)
    if match:
        hour = int(match.group(1))
        minute = int(match.group(2) or match.group(4) or 0)
        if match.group(3) == "半":
            minute = 30
        if hour > 24 or minute > 59:
            return None
        if part in _PM_PARTS and hour < 12:
            hour += 12
        elif part == "中午" and hour < 6:
            hour += 12
        elif part is None and 1 <= hour <= 6:
            hour += 12
        return time(hour % 24, minute)
    if part is not None:
        return time(_PARTS[part])
    return None


def _relative(view: str, now: datetime) -> datetime | None:
    match = _IN_HOURS_RE.search(view)
    if match:
        hours = 0.5 if match.group(1) == "半" else int(match.group(1))
        return (now + timedelta(hours=hours)).replace(second=0, microsecond=0)
    if _NOW_RE.search(view):
        return now.replace(second=0, microsecond=0)
    return None


def _safe_date(year: int, month: int, day_of_month: int) -> date | None:
    try:
        return date(year, month, day_of_month)
    except ValueError:
        return None
