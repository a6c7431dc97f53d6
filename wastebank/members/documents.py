"""Turn members into the plain data the card sheet and statement PDFs print (the documents
themselves know nothing of Flask, the database or languages)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from ..documents.cards import CardData, render_card_sheet
from ..documents.passbook import StatementData, StatementLabels, StatementRow, render_statement
from ..models import Member, MemberCard, utcnow
from ..money import format_idr
from ..reports.members import member_statement
from ..reports.signing import committee_signers, place_date, unit_letterhead
from ..services.members import card_url
from ..timeutil import format_local, local_day_bounds, local_today, to_local

MAX_STATEMENT_DAYS = 10 * 366


def card_sheet_pdf(cards: list[MemberCard]) -> bytes:
    """The card sheet PDF for ``cards`` (live cards, in order). Changes nothing: a card counts
    as printed only when the manager confirms it (``services.members.mark_cards_printed``).
    Raises ValueError for no cards."""
    data = [CardData(unit_name=card.member.unit.name, member_name=card.member.name,
                     member_no=card.member.member_no, url=card_url(card.token)) for card in cards]
    return render_card_sheet(data, heading=_("MEMBER CARD"), hint=_("Scan to see your balance"),
                             title=_("Member cards"))


def _sheet_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="card-sheet")


def sheet_token(unit_id: int, card_ids: list[int]) -> str:
    """A signed, URL-safe name of one card sheet: the unit and the ids of the cards on it.
    The ids are sorted and written as differences (``"12.1.1.4"``), which zlib shrinks to a few
    bytes for a unit's run of cards: 500 cards fit a URL (the PDF link is a GET)."""
    ids = sorted(set(card_ids))
    deltas = [b - a for a, b in zip([0, *ids], ids, strict=False)]
    return _sheet_signer().dumps([unit_id, ".".join(map(str, deltas))])


def sheet_card_ids(token: str, unit_id: int) -> list[int] | None:
    """The card ids of a sheet named by :func:`sheet_token`, or None when the signature is
    wrong, the text is not one, or the sheet is another unit's (the caller refuses it)."""
    try:
        sheet_unit, text = _sheet_signer().loads(token or "")
        ids, last = [], 0
        for delta in (text.split(".") if text else []):
            last += int(delta)
            ids.append(last)
    except (BadSignature, ValueError, TypeError):
        return None
    if sheet_unit != unit_id:
        return None
    return ids


def statement_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The statement's local dates, inclusive: defaults are the 1st of this month and today;
    swapped if reversed; at most ten years long."""
    today = local_today()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        start, end = end, start
    if (end - start).days > MAX_STATEMENT_DAYS:
        start = end - timedelta(days=MAX_STATEMENT_DAYS)
    return start, end


def statement_pdf(member: Member, start: date, end: date) -> bytes:
    """The member's statement (*buku tabungan*) PDF from local day ``start`` to ``end``
    inclusive, in the current locale."""
    locale = get_locale()
    begin, _ignored = local_day_bounds(start)
    _ignored, finish = local_day_bounds(end)
    statement = member_statement(member, begin, finish)
    rows = tuple(
        StatementRow(date=to_local(m.recorded_at or m.posted_at).strftime("%d-%m-%Y"), description=m.description,
                     reference=m.reference, posted=format_local(m.posted_at) if m.posted_later else "",
                     money_in=format_idr(m.amount_idr, locale) if m.amount_idr > 0 else "",
                     money_out=format_idr(-m.amount_idr, locale) if m.amount_idr < 0 else "",
                     balance=format_idr(m.balance_idr, locale))
        for m in statement.movements)
    labels = StatementLabels(
        title=_("SAVINGS STATEMENT"), member=_("Member"), period=_("Period"), printed=_("Printed"),
        date=_("Date"), description=_("Description"), reference=_("Receipt no."),
        money_in=_("In"), money_out=_("Out"), balance=_("Balance"), opening=_("Opening balance"),
        closing=_("Closing balance"), no_movements=_("No movements in this period."), page=_("Page"),
        posted=_("posted"))
    data = StatementData(
        unit_name=member.unit.name, unit_address=member.unit.full_address, member_name=member.name,
        member_no=member.member_no, period=f"{start:%d-%m-%Y} – {end:%d-%m-%Y}",
        printed_at=format_local(utcnow()), opening=format_idr(statement.opening_idr, locale),
        closing=format_idr(statement.closing_idr, locale), rows=rows, labels=labels,
        unit_lines=unit_letterhead(member.unit)[1:], place_date=place_date(member.unit.kota, locale),
        signers=committee_signers()[1:])
    return render_statement(data)
