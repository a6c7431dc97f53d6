"""The month rule, in one place: which deposits, withdrawals and other ledger entries belong to
a period (docs/rules.md §periods, §time (I11), issue 9 item 6; docs/periods.md).

A deposit belongs to the local day and month (Asia/Jakarta, ``WASTEBANK_TIMEZONE``) of its
**capture time**, ``recorded_at`` — when it was weighed at the counter — not of its posting
time ``posted_at`` (when the server booked it; later for an offline capture synced from the
tablet's outbox). So a deposit captured on 30 Nov at 23:40 WIB and posted on 2 Dec is
November's in the member passbook (PDF and screen), the resident page, the unit report, the
aggregator statement, the impact statement and every CSV. Where the two times differ the
posting time is shown beside the capture time (:func:`capture_note`).

Every query that picks "the deposits of a period" filters with :func:`captured_in` (or
:func:`captured_before` for balances at a period's end) on a ``recorded_at`` column; the
periods themselves are local-midnight bounds from ``timeutil``. The one deliberate exception is
the cash book and daily close (``services/cashbook.py``), which count the cash box by posting
time.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_

from ..timeutil import local_text, to_local

#: Capture and posting closer than this are "the same time" (an online save).
SAME_MOMENT = timedelta(minutes=1)


def captured_in(recorded_at, start: datetime, end: datetime):
    """SQL condition: the ``recorded_at`` column (capture time) lies in [``start``, ``end``),
    aware UTC instants (``timeutil.local_day_bounds`` / ``local_month_bounds``)."""
    return and_(recorded_at >= start, recorded_at < end)


def captured_before(recorded_at, moment: datetime):
    """SQL condition: captured before ``moment`` (balances at a period's end, opening balances)."""
    return recorded_at < moment


def posted_later(recorded_at: datetime | None, posted_at: datetime) -> bool:
    """True when the posting came a minute or more after the capture (an offline capture
    synced later); then the posting time is shown beside the capture time."""
    return recorded_at is not None and posted_at - recorded_at >= SAME_MOMENT


def capture_note(recorded_at: datetime | None, posted_at: datetime) -> str:
    """``"dicatat 30/11 23.40, dibukukan 02/12"`` (local times, current language: the clock time
    as ``timeutil.local_text`` writes it, ``23:40`` in English) when the posting came later than
    the capture; the posting's time instead of its date when both are on the same local day;
    ``""`` when they are the same moment."""
    if not posted_later(recorded_at, posted_at):
        return ""
    recorded, posted = to_local(recorded_at), to_local(posted_at)
    posted_text = local_text(posted_at, "%H:%M") if posted.date() == recorded.date() else posted.strftime("%d/%m")
    if posted.year != recorded.year:
        posted_text = posted.strftime("%d/%m/%Y")
    return _("recorded %(recorded)s, posted %(posted)s", recorded=local_text(recorded_at, "%d/%m %H:%M"),
             posted=posted_text)
