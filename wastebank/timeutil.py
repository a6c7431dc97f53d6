"""The deployment's time zone: stored times are UTC, shown and bucketed locally (docs/rules.md §time)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Jakarta"


def local_zone() -> ZoneInfo:
    """The configured zone (``TIMEZONE``, default Asia/Jakarta)."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ
    return ZoneInfo(name)


def to_local(moment: datetime) -> datetime:
    """An aware UTC datetime as local wall-clock time (aware, in the local zone)."""
    return moment.astimezone(local_zone())


def local_today() -> date:
    """Today's date in the deployment's zone."""
    from .models.types import utcnow

    return utcnow().astimezone(local_zone()).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting ``day`` and the next day: [start, end)."""
    zone = local_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def local_month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """UTC instants of local midnight on the 1st of the month and of the next month (docs/rules.md §periods)."""
    zone = local_zone()
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def format_local(moment: datetime, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """``moment`` in local time as text, with the zone's abbreviation (e.g. ``WIB``)."""
    local = to_local(moment)
    return f"{local.strftime(fmt)} {local.tzname()}"


def format_clock(moment: datetime, locale=None) -> str:
    """``moment``'s local clock time as a sentence on the screen says it, with the zone: in
    Indonesian with a dot between hours and minutes (PUEBI: "pukul 05.39 WIB"), in English with
    a colon ("at 05:39 WIB"). ``locale`` defaults to the request's (Flask-Babel). The one place
    the UI's "pukul …" is written; machine formats (ISO in JSON, CSV) never use it."""
    if locale is None:
        from flask_babel import get_locale

        locale = get_locale()
    return format_local(moment, "%H:%M" if str(locale or "id").startswith("en") else "%H.%M")


# Days the app can place in time (UTC conversions overflow at the ends of the calendar).
MIN_DAY, MAX_DAY = date(1970, 1, 1), date(9000, 12, 31)


def parse_day(text: str | None) -> date | None:
    """``"2026-12-01"`` → that date; anything else — other ISO forms (``20261201``,
    ``2026-W49-2``), impossible dates, days before 1970 or after 9000 — → None."""
    text = (text or "").strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if MIN_DAY <= day <= MAX_DAY else None
