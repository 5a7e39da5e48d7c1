"""Quiet hours: a daily window ("22:00-07:00", in a time zone) during which non-critical alerts wait.

A window may cross midnight. ``QuietHours.active(now)`` says whether ``now`` falls inside it and
``QuietHours.ends_after(now)`` when the current window closes (when held alerts are released).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    def active(self, now: datetime) -> bool:
        local = now.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime) -> datetime:
        """The end of the quiet window that contains ``now`` (or the next one), as an aware datetime."""
        local = now.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end += timedelta(days=1)
        return end


def parse_quiet_hours(text: str, timezone: str = "UTC") -> QuietHours:
    """Parse "HH:MM-HH:MM"; ``ValueError`` naming the value when it is not one."""
    match = _WINDOW.fullmatch(text)
    if not match:
        raise ValueError(f"invalid quiet hours {text!r}: expected HH:MM-HH:MM, like 22:00-07:00")
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"invalid quiet hours {text!r}: hours go to 23 and minutes to 59")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"invalid quiet hours {text!r}: start and end are the same")
    return QuietHours(time(h1, m1), time(h2, m2), ZoneInfo(timezone))
