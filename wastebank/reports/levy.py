"""The levy-exemption list (issue 12 item 3; Perda DKI Jakarta 1/2024 on waste management, which
exempts from the household waste levy a household with a member active in a bank sampah).

For one unit and one local month: each active household, grouped by RW and RT, with its member
number, name, address and net deposits that month. docs/exports.md.

* **Active** is the statement's definition, reused, not restated: ``figures.member_activity``
  with the ``ACTIVE_MEMBER_MIN_DEPOSITS`` setting (``figures.active_threshold``) — net deposit
  events in the month (by ``recorded_at``, ``period.captured_in``; voids netted in the month
  they were recorded) of at least the threshold. Sources differ on 2 or 4 deposits a month, so
  the number is configuration. The list therefore has exactly the statement's
  ``active_members`` rows for the unit and month.
* **Household** is the member account (a person, a household or an institution; ``kind`` is
  shown): the unit registers one account per household in practice, and the list does not guess
  who lives together.
* **Personal data.** Names and addresses: only unit managers (their unit) and aggregator staff
  (their aggregator's units) may download it, and every download is audited (``export.levy``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Member, Unit
from ..timeutil import local_month_bounds
from .figures import Scope, active_threshold, member_activity

#: The audit action of every levy-list download (label in ``services.audit.ACTION_LABELS``).
AUDIT_ACTION = "export.levy"


@dataclass(frozen=True)
class LevyHousehold:
    """One active member account: RW and RT (as registered, may be empty), member number,
    name, kind (``person``/``household``/``institution``), address, net deposits in the month."""

    rw: str
    rt: str
    member_no: str
    name: str
    kind: str
    address: str
    deposits: int


@dataclass(frozen=True)
class LevyList:
    """The list of ``unit`` for the local month; ``households`` ordered by RW, RT (empty last)
    and member number; ``min_deposits`` the threshold used."""

    unit: Unit
    year: int
    month: int
    min_deposits: int
    households: list[LevyHousehold]

    @property
    def month_text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def groups(self) -> list[tuple[str, str, list[LevyHousehold]]]:
        """``[(rw, rt, households)]`` in list order: the per-RW/RT sections."""
        out: list[tuple[str, str, list[LevyHousehold]]] = []
        for h in self.households:
            if not out or (out[-1][0], out[-1][1]) != (h.rw, h.rt):
                out.append((h.rw, h.rt, []))
            out[-1][2].append(h)
        return out


def _place_key(text: str) -> tuple[bool, int, str]:
    """Sort key of an RW/RT number: empty last, then numerically ("5" with "05"), then as text."""
    text = text.strip()
    return (text == "", int(text) if text.isdigit() else 1 << 30, text)


def levy_list(unit: Unit, year: int, month: int) -> LevyList:
    """The levy-exemption list of ``unit`` for local month ``year``-``month`` (one query)."""
    start, end = local_month_bounds(year, month)
    threshold = active_threshold()
    act = member_activity(Scope((unit.id,), start, end), threshold)
    rows = db.session.execute(
        select(Member.rw, Member.rt, Member.member_no, Member.name, Member.kind, Member.address, act.c.deposits)
        .join(act, act.c.member_id == Member.id).where(Member.unit_id == unit.id))
    households = [LevyHousehold((rw or "").strip(), (rt or "").strip(), no, name, kind, address or "", int(n))
                  for rw, rt, no, name, kind, address, n in rows]
    households.sort(key=lambda h: (_place_key(h.rw), _place_key(h.rt), h.member_no))
    return LevyList(unit, year, month, threshold, households)


def levy_table(levy: LevyList, fmt: str = "names") -> tuple[list, list[list]]:
    """``(header, rows)`` of the list's CSV (``csvfile.csv_bytes``): unit, month, RW, RT, member
    number, name, kind, address, deposits; headers in the current language (``"names"``) or
    snake_case (``"codes"``, kind as its code)."""
    from flask_babel import gettext as _

    kinds = {"person": _("Person"), "household": _("Household"), "institution": _("Institution")}
    rows = [[levy.unit.code, levy.month_text, h.rw, h.rt, h.member_no, h.name,
             h.kind if fmt == "codes" else kinds.get(h.kind, h.kind), h.address, h.deposits]
            for h in levy.households]
    if fmt == "codes":
        return ["unit", "month", "rw", "rt", "member_no", "name", "kind", "address", "deposits"], rows
    return [_("Unit"), _("Month"), _("RW"), _("RT"), _("Member no."), _("Name"), _("Kind"), _("Address"),
            _("Deposits (≥ %(n)s makes active)", n=levy.min_deposits)], rows


def levy_filename(levy: LevyList) -> str:
    """``levy-exemption-RW05-2026-11.csv``."""
    import re

    safe = re.sub(r"[^A-Za-z0-9_-]", "_", levy.unit.code)
    return f"levy-exemption-{safe}-{levy.month_text}.csv"


def audit_details(levy: LevyList, fmt: str) -> dict:
    """What the audit row of a download records: month, format and how many households (no
    names: the audit log is not a second copy of the personal data)."""
    return {"month": levy.month_text, "format": fmt, "households": len(levy.households),
            "min_deposits": levy.min_deposits}
