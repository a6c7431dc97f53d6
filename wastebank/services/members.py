"""Members and cards: create, find by number, name or card token."""
from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Member, MemberCard, Unit, utcnow
from .errors import DomainError, NotFound
from .ledger import member_savings_account

CARD_TOKEN_BYTES = 24  # 192 random bits (SPEC §3 "Cards": at least 128)
_CARD_URL = re.compile(r"/c/([A-Za-z0-9_-]{22,64})/?$")


def next_member_no(unit: Unit) -> str:
    """The next member number of ``unit``: ``<UNIT CODE>-<4+ digits>``, e.g. ``RW05-0042``."""
    prefix = f"{unit.code}-"
    numbers = db.session.scalars(
        select(Member.member_no).where(Member.unit_id == unit.id, Member.member_no.like(f"{prefix}%"))
    )
    highest = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1:04d}"


def create_member(unit: Unit, name: str, *, phone: str = "", address: str = "", rt: str = "",
                  rw: str = "", kind: str = "person", member_no: str | None = None) -> Member:
    """Register a member at ``unit`` with a savings account (balance Rp 0) and a live card.

    Raises DomainError for an empty name. Flushes; the caller commits.
    """
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter the member's name."), field="name", code="required")
    member = Member(unit_id=unit.id, member_no=member_no or next_member_no(unit), name=name,
                    phone=phone, address=address, rt=rt, rw=rw or unit.rw, kind=kind, active=True)
    db.session.add(member)
    db.session.flush()
    member_savings_account(member)
    issue_card(member)
    return member


def issue_card(member: Member) -> MemberCard:
    """Revoke the member's live card, if any, and issue a new random token."""
    now = utcnow()
    for card in db.session.scalars(select(MemberCard).where(
            MemberCard.member_id == member.id, MemberCard.revoked_at.is_(None))):
        card.revoked_at = now
    card = MemberCard(unit_id=member.unit_id, member_id=member.id,
                      token=secrets.token_urlsafe(CARD_TOKEN_BYTES))
    db.session.add(card)
    db.session.flush()
    return card


def live_card(member: Member) -> MemberCard | None:
    """The member's card that is not revoked, or None."""
    return db.session.scalar(select(MemberCard).where(
        MemberCard.member_id == member.id, MemberCard.revoked_at.is_(None)))


def find_member(unit_id: int, ref: str) -> Member:
    """The member of ``unit_id`` named by ``ref``: a member number (case-insensitive), a live
    card token, or a scanned card URL ending in ``/c/<token>``.

    Raises NotFound (also for a revoked card or another unit's member) and DomainError with
    code ``member_inactive`` for a deactivated member.
    """
    ref = (ref or "").strip()
    if not ref:
        raise NotFound(_l("Enter a member number or scan a card."), field="member")
    match = _CARD_URL.search(ref)
    token = match.group(1) if match else ref
    member = db.session.scalar(select(Member).where(
        Member.unit_id == unit_id, func.upper(Member.member_no) == ref.upper()))
    if member is None:
        card = db.session.scalar(select(MemberCard).where(MemberCard.token == token))
        if card is not None and card.revoked_at is not None:
            raise NotFound(_l("This card is no longer valid (kartu tidak berlaku)."),
                           field="member", code="card_revoked")
        if card is not None and card.unit_id == unit_id:
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
