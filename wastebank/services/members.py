"""Members and cards: create, find by number, name or card token."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import Member, MemberCard, Unit, utcnow
from .audit import audit
from .errors import DomainError, NotFound
from .ledger import member_savings_account
from .transaction import insert_or_ignore

CARD_TOKEN_BYTES = 24  # 192 random bits (docs/rules.md §cards: at least 128)
_CARD_URL = re.compile(r"/c/([A-Za-z0-9_-]{22,64})/?$")


# The member-number alphabet (issue 10 item 3, docs/member-numbers.md): capital letters A-Z,
# digits, "-" and "."; 1-30 characters; first and last a letter or digit; at least one digit.
# Every such number is one URL path segment that no other route claims ("/", "?", "#", "%" and
# spaces are out; "." and ".." cannot be a whole number; "new", "import", "settings" and
# "cards.pdf" have no digit), so every route taking a member number reaches every member.
MEMBER_NO_MAX = 30
MEMBER_NO_RULE = re.compile(r"(?=[A-Z.\-]*[0-9])[A-Z0-9](?:[A-Z0-9.\-]{0,28}[A-Z0-9])?")


def is_valid_member_no(text: str) -> bool:
    """True when ``text`` (as stored: upper case, no spaces) obeys the member-number rule."""
    return bool(MEMBER_NO_RULE.fullmatch(str(text or "")))


def clean_member_no(text: str | None) -> str:
    """A member number as typed or imported, trimmed and upper-cased, checked against the
    rule (:data:`MEMBER_NO_RULE`). Returns ``""`` for empty text (a number is then issued).

    Raises DomainError (field ``member_no``, code ``invalid_member_no``) for any other text.
    """
    number = str(text or "").strip().upper()
    if number and not is_valid_member_no(number):
        raise DomainError(
            _l("The member number “%(no)s” may only have letters, digits, “-” and “.” (at most 30, "
               "at least one digit, starting and ending with a letter or digit).", no=number[:40]),
            field="member_no", code="invalid_member_no")
    return number


def _standard_counter(unit: Unit, member_no: str) -> int | None:
    """The counter ``n`` of a standard number ``<UNIT CODE>-<n>`` of ``unit``, else None."""
    prefix = f"{unit.code.upper()}-"
    tail = member_no.upper()[len(prefix):] if member_no.upper().startswith(prefix) else ""
    return int(tail) if tail.isdigit() and len(tail) <= 12 else None


def _ensure_member_counter(unit: Unit) -> None:
    """Create the unit's counter row on first use, starting at the highest standard number its
    members already have (members registered before migration 0007, or imported)."""
    from ..models import MemberCounter

    if db.session.get(MemberCounter, unit.id) is not None:
        return
    numbers = db.session.scalars(select(Member.member_no).where(
        Member.unit_id == unit.id, func.upper(Member.member_no).like(f"{unit.code.upper()}-%")))
    highest = max((n for n in (_standard_counter(unit, no) for no in numbers) if n is not None), default=0)
    insert_or_ignore(MemberCounter, unit_id=unit.id, last_no=highest)


def next_member_no(unit: Unit) -> str:
    """Take the next member number of ``unit``: ``<UNIT CODE>-<4+ digits>``, e.g. ``RW05-0042``.

    Taken from the unit's ``member_counter`` row with ``UPDATE … RETURNING`` (as receipt
    numbers: ``numbering.next_receipt_no``), so concurrent registrations queue on the row lock
    instead of colliding on the unique number; a rollback gives the number back. A number
    already held (an imported one) is skipped.
    """
    from ..models import MemberCounter

    _ensure_member_counter(unit)
    while True:
        number = db.session.execute(
            update(MemberCounter).where(MemberCounter.unit_id == unit.id)
            .values(last_no=MemberCounter.last_no + 1).returning(MemberCounter.last_no)
            .execution_options(synchronize_session=False)).scalar_one()
        member_no = f"{unit.code}-{number:04d}"
        taken = db.session.scalar(select(Member.id).where(
            Member.unit_id == unit.id, func.upper(Member.member_no) == member_no.upper()))
        if taken is None:
            return member_no


def _claim_standard_number(unit: Unit, member_no: str) -> None:
    """An explicit number of the standard shape moves the counter past it (under the row
    lock), so that the next issued number does not collide with it."""
    from ..models import MemberCounter

    counter = _standard_counter(unit, member_no)
    if counter is None:
        return
    _ensure_member_counter(unit)
    db.session.execute(update(MemberCounter)
                       .where(MemberCounter.unit_id == unit.id, MemberCounter.last_no < counter)
                       .values(last_no=counter).execution_options(synchronize_session=False))


def create_member(unit: Unit, name: str, *, phone: str = "", address: str = "", rt: str = "",
                  rw: str = "", kind: str = "person", member_no: str | None = None,
                  user_id: int | None = None) -> Member:
    """Register a member at ``unit`` with a savings account (balance Rp 0) and a live card.

    ``member_no`` (optional; an import's own number) must obey the member-number rule
    (:func:`clean_member_no`); without it the next number is taken (:func:`next_member_no`).
    ``user_id`` is who registers them (for the audit log). Raises DomainError for an empty
    name or a bad number. Flushes; the caller commits (through ``run_in_transaction``: a
    number taken by a concurrent import is a unique violation, retried).
    """
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter the member's name."), field="name", code="required")
    member_no = clean_member_no(member_no)
    if member_no:
        _claim_standard_number(unit, member_no)
    member = Member(unit_id=unit.id, member_no=member_no or next_member_no(unit), name=name,
                    phone=phone, address=address, rt=rt, rw=rw or unit.rw, kind=kind, active=True)
    db.session.add(member)
    db.session.flush()
    member_savings_account(member)
    audit("member.create", unit_id=unit.id, user_id=user_id, object_type="member", object_id=member.member_no,
          details={"name": name, "kind": kind, "phone": phone, "rt": rt, "rw": member.rw})
    issue_card(member, user_id=user_id)
    return member


def renumber_member(member: Member, member_no: str, *, user_id: int | None = None) -> Member:
    """Give ``member`` a new number that obeys the rule (:func:`clean_member_no`): the way back
    for a member imported before the rule with a number no route can reach (``XS/0099``).
    Cards keep working (their QR carries the card token, not the number); audited as
    ``member.renumber`` with the old and new number. Flushes.

    Raises DomainError for a bad or empty number and Conflict when another member of the unit
    has it (compared case-insensitively).
    """
    from .errors import Conflict

    number = clean_member_no(member_no)
    if not number:
        raise DomainError(_l("Enter the new member number."), field="member_no", code="required")
    taken = db.session.scalar(select(Member.id).where(
        Member.unit_id == member.unit_id, func.upper(Member.member_no) == number, Member.id != member.id))
    if taken is not None:
        raise Conflict(_l("Member number %(no)s is already taken.", no=number), field="member_no")
    old = member.member_no
    _claim_standard_number(member.unit, number)
    member.member_no = number
    db.session.flush()
    audit("member.renumber", unit_id=member.unit_id, user_id=user_id, object_type="member",
          object_id=number, details={"from": old, "to": number})
    return member


def issue_card(member: Member, *, user_id: int | None = None) -> MemberCard:
    """Revoke the member's live card, if any, and issue a new random token (audited as
    ``card.issue`` by ``user_id``; the token itself is not logged)."""
    now = utcnow()
    revoked = []
    for card in db.session.scalars(select(MemberCard).where(
            MemberCard.member_id == member.id, MemberCard.revoked_at.is_(None))):
        card.revoked_at = now
        revoked.append(card.id)
    card = MemberCard(unit_id=member.unit_id, member_id=member.id,
                      token=secrets.token_urlsafe(CARD_TOKEN_BYTES))
    db.session.add(card)
    db.session.flush()
    audit("card.issue", unit_id=member.unit_id, user_id=user_id, object_type="member",
          object_id=member.member_no, details={"card_id": card.id, "revoked_card_ids": revoked})
    return card


def live_card(member: Member) -> MemberCard | None:
    """The member's card that is not revoked, or None."""
    return db.session.scalar(select(MemberCard).where(
        MemberCard.member_id == member.id, MemberCard.revoked_at.is_(None)))


# Separators operators type inside a member number: "rw05-12", "RW05 12", "rw05/12", "rw05.12".
_NUMBER_SEPARATORS = re.compile(r"[\s\-_./]+")
_MAX_TYPED_DIGITS = 9  # "12" … "000000012"; longer digit strings are not a member's counter


def member_number_candidates(unit_code: str, text: str) -> list[str]:
    """The member numbers ``text`` may mean at the unit ``unit_code``, most exact first, all
    upper case (compare with ``upper(member_no)``).

    First the text itself (trimmed, inner whitespace collapsed, upper-cased): an imported
    number of any shape matches exactly and always wins. Then, when the text is a counter
    (``12``, ``0012``) or the unit's code followed by a counter with or without separators
    (``rw05-12``, ``RW05 12``, ``rw0512``, ``RW05-0012``), the unit's standard number
    ``<UNIT CODE>-<counter, at least 4 digits>`` (``RW05-0012``, see ``next_member_no``).
    Another unit's number (``RW07-0003`` at RW05) gives only itself, so it finds nothing there.
    Empty text gives ``[]``. Never raises. The browser mirrors this in
    ``static/counter/members.js: normaliseMemberRef`` (shared vectors:
    ``tests/vectors/member_ref.json``).
    """
    typed = " ".join(str(text or "").split()).upper()
    if not typed:
        return []
    candidates = [typed]
    code = str(unit_code or "").strip().upper()
    compact = _NUMBER_SEPARATORS.sub("", typed)
    compact_code = _NUMBER_SEPARATORS.sub("", code)
    counter = None
    if re.fullmatch(r"[0-9]+", compact):
        counter = compact
    elif compact_code and compact.startswith(compact_code) and re.fullmatch(r"[0-9]+", compact[len(compact_code):]):
        counter = compact[len(compact_code):]
    if code and counter is not None and len(counter) <= _MAX_TYPED_DIGITS and int(counter) > 0:
        standard = f"{code}-{int(counter):04d}"
        if standard not in candidates:
            candidates.append(standard)
    return candidates


def card_token_hash(token: str) -> str:
    """The SHA-256 of a card token (UTF-8) as 64 lower-case hex digits: what the counter
    snapshot hands the tablet instead of the token (``static/counter/members.js: cardHash``)."""
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()


def find_member(unit_id: int, ref: str) -> Member:
    """The member of ``unit_id`` named by ``ref``: a member number as operators type it (see
    :func:`member_number_candidates`: ``12``, ``rw05-12``, ``RW05-0012``; an exact,
    case-insensitive match always wins), a live card token, or a scanned card URL ending in
    ``/c/<token>``.

    Raises NotFound (also for a revoked card or another unit's member) and DomainError with
    code ``member_inactive`` for a deactivated member.
    """
    ref = (ref or "").strip()
    if not ref:
        raise NotFound(_l("Enter a member number or scan a card."), field="member")
    match = _CARD_URL.search(ref)
    token = match.group(1) if match else ref
    member = None
    unit_code = db.session.scalar(select(Unit.code).where(Unit.id == unit_id))
    candidates = member_number_candidates(unit_code or "", ref)
    if candidates:
        found = {m.member_no.upper(): m for m in db.session.scalars(select(Member).where(
            Member.unit_id == unit_id, func.upper(Member.member_no).in_(candidates)))}
        member = next((found[c] for c in candidates if c in found), None)
    if member is None:
        # Only this unit's cards: another unit's card, live or revoked, is simply not found here.
        card = db.session.scalar(select(MemberCard).where(MemberCard.token == token,
                                                          MemberCard.unit_id == unit_id))
        if card is not None and card.revoked_at is not None:
            raise NotFound(_l("This card is no longer valid (kartu tidak berlaku)."),
                           field="member", code="card_revoked")
        if card is not None:
            member = card.member
    if member is None:
        raise NotFound(_l("No member with this number or card at this unit."), field="member",
                       code="member_not_found")
    if not member.active:
        raise DomainError(_l("This member is deactivated; reactivate them first."),
                          field="member", code="member_inactive")
    return member


def search_members(unit_id: int, query: str, limit: int = 20) -> list[Member]:
    """Members of ``unit_id`` whose number or name contains ``query`` (case-insensitive),
    active first, by name. An empty query returns nothing."""
    query = (query or "").strip()
    if not query:
        return []
    like = f"%{query.lower()}%"
    return list(db.session.scalars(
        select(Member)
        .where(Member.unit_id == unit_id,
               or_(func.lower(Member.name).like(like), func.lower(Member.member_no).like(like)))
        .order_by(Member.active.desc(), Member.name)
        .limit(limit)
    ))


def served_today(unit_id: int, limit: int = 10) -> list[tuple[Member, datetime]]:
    """The last ``limit`` distinct members served today at ``unit_id``, newest first: pairs
    ``(member, at)`` where ``at`` (aware UTC) is the latest capture time today of a deposit
    (``recorded_at``, so an item synced from the outbox counts on the day it was weighed) or a
    withdrawal request (``requested_at``, any status). "Today" is the local day
    (``timeutil.local_today``, Asia/Jakarta by default). Two queries whatever the count."""
    from sqlalchemy import union_all

    from ..models import Deposit, Withdrawal
    from ..reports.period import captured_in
    from ..timeutil import local_day_bounds, local_today

    start, end = local_day_bounds(local_today())
    visits = union_all(
        select(Deposit.member_id.label("member_id"), Deposit.recorded_at.label("at"))
        .where(Deposit.unit_id == unit_id, captured_in(Deposit.recorded_at, start, end)),
        select(Withdrawal.member_id.label("member_id"), Withdrawal.requested_at.label("at"))
        .where(Withdrawal.unit_id == unit_id, Withdrawal.requested_at >= start,
               Withdrawal.requested_at < end),
    ).subquery()
    latest_at = func.max(visits.c.at).label("latest_at")
    rows = db.session.execute(
        select(visits.c.member_id, latest_at).group_by(visits.c.member_id)
        .order_by(latest_at.desc(), visits.c.member_id.desc()).limit(limit)).all()
    if not rows:
        return []
    members = {m.id: m for m in db.session.scalars(select(Member).where(
        Member.unit_id == unit_id, Member.id.in_([row[0] for row in rows])))}
    return [(members[member_id], _as_utc(at)) for member_id, at in rows if member_id in members]


def _as_utc(moment) -> datetime:
    """A timestamp read back from an aggregate as an aware UTC datetime (SQLite may hand back
    naive text or a naive datetime)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def snapshot_members(unit_id: int) -> list[dict]:
    """The active members of ``unit_id`` for the counter tablet's offline copy, by number:
    ``{"member_no", "name", "rt", "rw", "balance_idr", "card_hashes"}`` with ``balance_idr``
    the savings balance in rupiah and ``card_hashes`` the :func:`card_token_hash` of each
    unrevoked card (the tokens themselves never leave the server). Two queries whatever the
    number of members."""
    from ..models import Account

    rows = db.session.execute(
        select(Member.id, Member.member_no, Member.name, Member.rt, Member.rw, Account.balance)
        .outerjoin(Account, (Account.member_id == Member.id) & (Account.kind == "member_savings"))
        .where(Member.unit_id == unit_id, Member.active.is_(True))
        .order_by(Member.member_no)).all()
    hashes: dict[int, list[str]] = {}
    for member_id, token in db.session.execute(
            select(MemberCard.member_id, MemberCard.token)
            .join(Member, Member.id == MemberCard.member_id)
            .where(MemberCard.unit_id == unit_id, MemberCard.revoked_at.is_(None),
                   Member.unit_id == unit_id, Member.active.is_(True))
            .order_by(MemberCard.id)):
        hashes.setdefault(member_id, []).append(card_token_hash(token))
    return [{"member_no": member_no, "name": name, "rt": rt or "", "rw": rw or "",
             "balance_idr": int(balance or 0), "card_hashes": hashes.get(member_id, [])}
            for member_id, member_no, name, rt, rw, balance in rows]


# --- Registry, cards and self-service PIN (issue 3) -------------------------------------------

PIN_MAX_TRIES = 5          # wrong PINs in a row before the lockout
PIN_LOCKOUT_MINUTES = 15   # how long a locked member's page refuses PINs


def normalise_phone(text: str) -> str:
    """An Indonesian phone number as E.164 text, e.g. ``"0812-3456-7890"`` →
    ``"+6281234567890"``; ``"+62 812 3456 7890"`` and ``"6281234567890"`` give the same.
    Empty text gives ``""`` (phone is optional). Uses Google's libphonenumber metadata
    (``phonenumbers``), region ID.

    Raises DomainError (field ``phone``, code ``invalid_phone``) for text that is not a valid
    Indonesian number.
    """
    import phonenumbers

    raw = " ".join(str(text or "").split())
    if not raw:
        return ""
    digits = re.sub(r"[\s().\-/]", "", raw)
    if re.fullmatch(r"62\d{8,13}", digits):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise DomainError(_l("Not a valid Indonesian phone number, e.g. 0812-3456-7890."),
                          field="phone", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean(text: str | None, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def update_member(member: Member, *, name: str, phone: str = "", address: str = "", rt: str = "",
                  rw: str = "", kind: str = "person", user_id: int | None = None) -> Member:
    """Change a member's name, contact and kind (the number and the unit never change).
    ``phone`` is normalised with :func:`normalise_phone`.

    Raises DomainError for an empty name, an unknown kind or a bad phone. Flushes.
    """
    from ..models import MEMBER_KINDS

    name = _clean(name, 200)
    if not name:
        raise DomainError(_l("Enter the member's name."), field="name", code="required")
    if kind not in MEMBER_KINDS:
        raise DomainError(_l("Choose person, household or institution."), field="kind", code="invalid_kind")
    member.name = name
    member.phone = normalise_phone(phone)
    member.address = _clean(address, 300)
    member.rt = _clean(rt, 10)
    member.rw = _clean(rw, 10)
    member.kind = kind
    db.session.flush()
    audit("member.update", unit_id=member.unit_id, user_id=user_id, object_type="member",
          object_id=member.member_no, details={"name": member.name, "kind": kind, "phone": member.phone,
                                               "rt": member.rt, "rw": member.rw})
    return member


def set_member_active(member: Member, active: bool, *, user_id: int | None = None) -> Member:
    """Deactivate (no new business; history and balance stay) or reactivate a member.
    Members are never deleted (docs/rules.md §glossary). Flushes."""
    member.active = bool(active)
    db.session.flush()
    audit("member.reactivate" if active else "member.deactivate", unit_id=member.unit_id, user_id=user_id,
          object_type="member", object_id=member.member_no)
    return member


def revoke_card(member: Member, *, user_id: int | None = None) -> MemberCard | None:
    """Revoke the member's live card at once (its token stops working everywhere) without
    issuing a new one. Returns the revoked card, or None if there was none. Flushes."""
    card = live_card(member)
    if card is not None:
        card.revoked_at = utcnow()
        db.session.flush()
        audit("card.revoke", unit_id=member.unit_id, user_id=user_id, object_type="member",
              object_id=member.member_no, details={"card_id": card.id})
    return card


def card_url(token: str) -> str:
    """The URL a card's QR encodes: ``<PUBLIC_BASE_URL>/c/<token>`` (docs/rules.md §cards)."""
    from flask import current_app

    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/c/{token}"


def card_by_token(token: str) -> MemberCard | None:
    """The card with ``token`` (live or revoked), or None."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(MemberCard).where(MemberCard.token == token))


def cards_to_print(unit_id: int, member_ids: list[int] | None = None, *,
                   unprinted_only: bool = False, limit: int | None = None,
                   card_ids: list[int] | None = None) -> list[MemberCard]:
    """Live cards of active members of ``unit_id``, by member number: those of ``member_ids``
    (other units' ids are ignored), or all; ``card_ids``: only these cards (a signed sheet's;
    other units' and revoked ones are left out); ``unprinted_only`` keeps cards never printed;
    ``limit``: the first that many. One statement: each card's ``member`` comes loaded with it
    (the card sheet reads them; issue 13 item 6)."""
    from sqlalchemy.orm import contains_eager

    stmt = (select(MemberCard).join(Member, Member.id == MemberCard.member_id)
            .options(contains_eager(MemberCard.member))
            .where(MemberCard.unit_id == unit_id, MemberCard.revoked_at.is_(None),
                   Member.unit_id == unit_id, Member.active.is_(True))
            .order_by(Member.member_no))
    if member_ids is not None:
        stmt = stmt.where(Member.id.in_(member_ids or [-1]))
    if card_ids is not None:
        stmt = stmt.where(MemberCard.id.in_(card_ids or [-1]))
    if unprinted_only:
        stmt = stmt.where(MemberCard.printed_at.is_(None))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def mark_cards_printed(unit_id: int, card_ids: list[int], *, user_id: int | None = None) -> tuple[int, int]:
    """The manager's "these cards are printed" for one card sheet (docs/rules.md §cards: only
    this confirmation sets ``printed_at``; making or downloading the PDF changes nothing).

    ``card_ids``: the ids of the cards that were on the sheet (at most a sheet's worth; the
    caller has checked the sheet's signature). One set-based ``UPDATE member_card SET printed_at
    = now WHERE unit_id = :unit_id AND id IN (…) AND revoked_at IS NULL AND printed_at IS NULL``:
    another unit's ids, revoked cards and cards already marked are left as they are, so a second
    confirmation changes nothing. When it marked any, one audit row ``card.print_confirm`` (the
    marked card ids) in the same transaction. Returns ``(marked, left_alone)``: cards marked now,
    and the sheet's other ids (already marked, revoked since, or not of this unit). Never commits
    (run it in ``run_in_transaction``)."""
    ids = sorted({int(i) for i in card_ids})
    if not ids:
        return 0, 0
    table = MemberCard.__table__
    marked = sorted(db.session.execute(
        update(table).where(table.c.unit_id == unit_id, table.c.id.in_(ids), table.c.revoked_at.is_(None),
                            table.c.printed_at.is_(None))
        .values(printed_at=utcnow()).returning(table.c.id)).scalars())
    if marked:
        audit("card.print_confirm", unit_id=unit_id, user_id=user_id, object_type="card_sheet",
              object_id=len(marked), details={"card_ids": marked, "sheet_cards": len(ids)})
    return len(marked), len(ids) - len(marked)


def set_pin(member: Member, pin: str | None, *, user_id: int | None = None) -> None:
    """Set the member's self-service PIN (4–6 digits, stored as an argon2 hash) and clear any
    lockout; an empty ``pin`` removes it. Digits 0-9 only. Raises DomainError (field ``pin``). Flushes."""
    from ..auth.passwords import hash_password

    pin = (pin or "").strip()
    # 0-9 only: a PIN in other digits ("١٢٣٤", a tester) cannot be typed on a phone's keypad.
    if pin and not re.fullmatch(r"[0-9]{4,6}", pin):
        raise DomainError(_l("The PIN must be 4 to 6 digits."), field="pin", code="invalid_pin")
    member.pin_hash = hash_password(pin) if pin else None
    member.pin_failed_count = 0
    member.pin_locked_until = None
    db.session.flush()
    audit("member.pin_set" if pin else "member.pin_clear", unit_id=member.unit_id, user_id=user_id,
          object_type="member", object_id=member.member_no)


class PinLocked(DomainError):
    """Too many wrong PINs; ``until`` is the UTC moment the lockout ends."""

    status = 429
    code = "pin_locked"

    def __init__(self, until):
        self.until = until
        super().__init__(_l("Too many wrong PINs. Try again later."), field="pin")


def check_pin(member: Member, pin: str) -> bool:
    """Check a PIN typed on the self-service page. A wrong PIN counts a try; every
    ``PIN_MAX_TRIES``-th wrong try in a row locks the member, for ``PIN_LOCKOUT_MINUTES`` the
    first time and twice as long each time after (at most a day), so that guessing a 4-digit
    PIN takes years, not weeks; a right PIN resets the count. While locked, every PIN (even the
    right one) is refused.

    Returns True for the right PIN. Raises PinLocked while locked. Flushes; the caller
    commits in either case (the count must persist).
    """
    from datetime import timedelta

    from ..auth.passwords import check_password

    now = utcnow()
    # Lock the row so that parallel guesses cannot each see a low count.
    db.session.refresh(member, with_for_update=True)
    if member.pin_locked_until is not None and member.pin_locked_until > now:
        raise PinLocked(member.pin_locked_until)
    if member.pin_hash and re.fullmatch(r"\d{4,6}", (pin or "").strip()) \
            and check_password(member.pin_hash, pin.strip()):
        member.pin_failed_count = 0
        member.pin_locked_until = None
        db.session.flush()
        return True
    member.pin_failed_count = (member.pin_failed_count or 0) + 1
    if member.pin_failed_count % PIN_MAX_TRIES == 0:
        rounds = member.pin_failed_count // PIN_MAX_TRIES
        minutes = min(PIN_LOCKOUT_MINUTES * 2 ** min(rounds - 1, 10), 24 * 60)
        member.pin_locked_until = now + timedelta(minutes=minutes)
        db.session.flush()
        raise PinLocked(member.pin_locked_until)
    db.session.flush()
    return False


def search_registry(unit_id: int, query: str, *, limit: int = 50) -> list[Member]:
    """Members of ``unit_id`` matching ``query`` in name, number or phone (phone typed as
    ``0812…`` or ``+62 812…`` both match), active first, by name. An empty query lists the
    unit's members by number."""
    query = " ".join((query or "").split())
    stmt = select(Member).where(Member.unit_id == unit_id)
    if not query:
        return list(db.session.scalars(stmt.order_by(Member.member_no).limit(limit)))
    like = f"%{query.lower()}%"
    conditions = [func.lower(Member.name).like(like), func.lower(Member.member_no).like(like)]
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 4 and re.fullmatch(r"[\d\s+().\-]+", query):
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        conditions.append(Member.phone.like(f"%{digits}%"))
    return list(db.session.scalars(
        stmt.where(or_(*conditions)).order_by(Member.active.desc(), Member.name).limit(limit)))
