"""Unit reports for unit managers (issue 5): daily and monthly summary, top categories, the
month's active-member list (Jakarta's levy-exemption rule, docs/rules.md §active-members) and
members with no deposit in the last three months. Same definitions as ``figures``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from ..extensions import db
from ..models import Deposit, Member, Unit
from ..timeutil import local_day_bounds, local_month_bounds, local_zone
from .figures import Scope, UnitFigures, active_threshold, member_activity, period_figures
from .statements import CategoryInfo, categories_by_id


def unit_period(unit: Unit, start: datetime, end: datetime) -> tuple[UnitFigures, dict[int, CategoryInfo]]:
    """The unit's figures for [start, end) and its categories' descriptions."""
    fig = period_figures([unit.id], start, end)[unit.id]
    return fig, categories_by_id(fig.categories)


def daily_summary(unit: Unit, day: date):
    """Figures for one local day."""
    return unit_period(unit, *local_day_bounds(day))


def monthly_summary(unit: Unit, year: int, month: int):
    """Figures for one local month."""
    return unit_period(unit, *local_month_bounds(year, month))


def top_categories(fig: UnitFigures, cats: dict[int, CategoryInfo], limit: int = 5):
    """The ``limit`` categories with the highest net value: [(CategoryInfo, CategoryFigure)]."""
    ranked = sorted(fig.categories.items(), key=lambda kv: (-kv[1].value_idr, cats[kv[0]].code))
    return [(cats[c], cf) for c, cf in ranked[:limit] if cf.value_idr > 0 or cf.quantity_milli > 0]


@dataclass(frozen=True)
class ActiveMember:
    member_no: str
    name: str
    deposits: int


def active_members(unit: Unit, year: int, month: int) -> list[ActiveMember]:
    """Members with ≥ ``ACTIVE_MEMBER_MIN_DEPOSITS`` net deposits in the local month, by number."""
    start, end = local_month_bounds(year, month)
    act = member_activity(Scope((unit.id,), start, end), active_threshold())
    rows = db.session.execute(select(Member.member_no, Member.name, act.c.deposits)
                              .join(act, act.c.member_id == Member.id).order_by(Member.member_no))
    return [ActiveMember(no, name, int(n)) for no, name, n in rows]


def active_members_table(unit: Unit, year: int, month: int, fmt: str = "names") -> tuple[list, list[list]]:
    """``(header, rows)`` of the month's active-member CSV: unit, month, member number, name,
    net deposits; headers in the current language (``fmt`` ``"names"``) or snake_case
    (``"codes"``)."""
    from flask_babel import gettext as _

    month_text = f"{year:04d}-{month:02d}"
    rows = [[unit.code, month_text, m.member_no, m.name, m.deposits] for m in active_members(unit, year, month)]
    if fmt == "codes":
        return ["unit", "month", "member_no", "name", "deposits"], rows
    return [_("Unit"), _("Month"), _("Member no."), _("Name"), _("Deposits")], rows


@dataclass(frozen=True)
class DormantMember:
    member_no: str
    name: str
    last_deposit_at: datetime | None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    year, month = day.year, day.month - months
    while month < 1:
        year, month = year - 1, month + 12
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def dormant_members(unit: Unit, today: date, months: int = 3) -> list[DormantMember]:
    """Active members registered before the cut-off (local ``today`` − ``months``) with no
    deposit (not voided) recorded since then; with their last deposit, oldest first."""
    cutoff = datetime.combine(months_before(today, months), datetime.min.time(), tzinfo=local_zone())
    last = (select(Deposit.member_id, func.max(Deposit.recorded_at).label("last_at"))
            .where(Deposit.unit_id == unit.id, Deposit.void_entry_id.is_(None))
            .group_by(Deposit.member_id).subquery())
    rows = db.session.execute(
        select(Member.member_no, Member.name, last.c.last_at)
        .outerjoin(last, last.c.member_id == Member.id)
        .where(Member.unit_id == unit.id, Member.active.is_(True), Member.created_at < cutoff,
               (last.c.last_at.is_(None)) | (last.c.last_at < cutoff))
        .order_by(last.c.last_at.is_(None).desc(), last.c.last_at, Member.member_no))
    out = []
    for no, name, last_at in rows:
        # An aggregate of a subquery comes back as text on SQLite: make it an aware UTC datetime.
        if isinstance(last_at, str):
            last_at = datetime.fromisoformat(last_at)
        if last_at is not None and last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=timezone.utc)
        out.append(DormantMember(no, name, last_at))
    return out
