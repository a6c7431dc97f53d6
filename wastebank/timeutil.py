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


def is_english(locale=None) -> bool:
    """True when ``locale`` (default: the request's, Flask-Babel; outside a request the app's
    default, Indonesian) is English; every other locale writes times the Indonesian way."""
    if locale is None and has_app_context():
        from flask_babel import get_locale

        locale = get_locale()
    return str(locale or "id").startswith("en")


def clock_pattern(locale=None) -> str:
    """The strftime pattern of a clock time as a reader of ``locale`` writes it: ``"%H.%M"``
    in Indonesian, hours and minutes separated by a period (PUEBI, *Pedoman Umum Ejaan Bahasa
    Indonesia*: "pukul 05.39"), ``"%H:%M"`` in English. The one rule for every clock time
    people read (docs/rules.md §time); the counter's copy is ``formatReceiptTime`` in
    static/counter/outbox-core.js, both checked by tests/vectors/money.json ``clock``."""
    return "%H:%M" if is_english(locale) else "%H.%M"


def local_text(moment: datetime, fmt: str, locale=None) -> str:
    """``moment`` in local time through the strftime pattern ``fmt``, without the zone's name;
    ``%H:%M`` in ``fmt`` stands for the clock time as ``locale`` writes it (:func:`clock_pattern`):
    ``local_text(t, "%d/%m %H:%M")`` → ``"30/11 23.40"`` in Indonesian, ``"30/11 23:40"`` in English.
    For people only: machine formats (ISO in JSON, CSV for machines) use ``isoformat()``."""
    return to_local(moment).strftime(fmt.replace("%H:%M", clock_pattern(locale)))


def format_local(moment: datetime, fmt: str = "%d-%m-%Y %H:%M", locale=None) -> str:
    """``moment`` in local time as text, with the zone's abbreviation: ``"29-11-2026 14.05 WIB"``
    in Indonesian, ``"29-11-2026 14:05 WIB"`` in English (``%H:%M`` in ``fmt`` is the reader's
    clock time, :func:`local_text`). The Jinja filter ``|local`` (``|local('%H:%M')`` for the
    time alone: ``"14.05 WIB"``)."""
    return f"{local_text(moment, fmt, locale)} {to_local(moment).tzname()}"


def format_clock(moment: datetime, locale=None) -> str:
    """``moment``'s local clock time with the zone, as a sentence on the screen says it: in
    Indonesian with a period between hours and minutes (PUEBI: "pukul 05.39 WIB"), in English
    with a colon ("at 05:39 WIB"). ``locale`` defaults to the request's (Flask-Babel)."""
    return format_local(moment, "%H:%M", locale)


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
