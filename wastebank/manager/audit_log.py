"""The audit log for people (issue 9 item 2; rules in docs/audit-log.md).

``audit_lines(rows, viewer_unit_id)`` turns ``AuditLog`` rows into ``AuditLine``s: the action's
label (``services.audit.ACTION_LABELS``), the object as text and, for the viewer's own unit, a
link (member, deposit receipt, withdrawal, sale, cash book day, price, stock…), the change as
fields "before → after" instead of JSON, and the device as a short name ("Chrome di Android",
parsed by the ``ua-parser`` library). The screen (``/manager/audit``) and its CSV export
(``audit_csv_rows``) both read these lines, so they say the same.

Where the "before" comes from, in this order:

1. ``details`` holds ``{"before": {...}, "after": {...}}`` — the convention for new edits;
2. a key ``x`` with ``previous_x`` or ``replaced_x`` beside it (``price.set``);
3. what the action itself implies (``member.deactivate``: active → inactive; ``stock.adjust``:
   the stock before = after − the change; a void: valid → voided …);
4. ``member.update`` rows carry the member's fields after the edit: the before is the previous
   ``member.create``/``member.update`` row of the same member, and only changed fields show.

Every other detail is a fact of the event (``before`` is None: shown as "field: value").
Technical keys (entry ids, card ids, the file hash) are left out of the screen; the CSV keeps
the raw JSON in its last column.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from ua_parser import parse as parse_user_agent

from ..counter.withdrawals import METHOD_LABELS, STATUS_LABELS
from ..extensions import db
from ..members.forms import KIND_CHOICES
from ..models import AuditLog, Collaborator, Member, Offtaker, Unit, User, WasteCategory, Withdrawal
from ..money import format_idr, format_quantity
from ..services.audit import ACTION_LABELS, action_label
from ..timeutil import format_local
from .forms import OFFTAKER_KINDS, PAYMENTS

#: Detail keys → field labels, in the order fields are shown.
FIELD_LABELS = {
    "member_no": _l("Member"),
    "name": _l("Name"),
    "full_name": _l("Full name"),
    "kind": _l("Kind"),
    "phone": _l("Phone"),
    "rt": "RT",
    "rw": "RW",
    "role": _l("Role"),
    "category": _l("Category"),
    "buy_price_idr": _l("Buy price"),
    "sell_price_idr": _l("Sell price"),
    "effective_from": _l("Effective from"),
    "requested_from": _l("Date asked for"),
    "offtaker": _l("Off-taker"),
    "payment": _l("Payment"),
    "method": _l("Method"),
    "status": _l("Status"),
    "lines": _l("Lines"),
    "quantity_milli": _l("Quantity change"),
    "quantity_after_milli": _l("Stock"),
    "amount_idr": _l("Amount"),
    "value_after_idr": _l("Value at cost"),
    "total_idr": _l("Total"),
    "fee_idr": _l("Fee"),
    "credited_idr": _l("Credited"),
    "cost_idr": _l("Stock cost of what leaves"),
    "shrinkage_idr": _l("Shrinkage at cost"),
    "margin_idr": _l("Margin"),
    "expected_cash_idr": _l("Expected cash"),
    "counted_cash_idr": _l("Counted cash"),
    "difference_idr": _l("Difference"),
    "closed_by_id": _l("Closed by"),
    "closed_at": _l("Closed at"),
    "filename": _l("File"),
    "members": _l("Members"),
    "opening_total_idr": _l("Opening balances"),
    "skipped": _l("Rows skipped"),
    "start": _l("From"),
    "end": _l("To"),
    "require_pin": _l("Ask residents for their PIN"),
    "revoked_card_ids": _l("Old cards revoked"),
    "owner": _l("Owner"),
    "label": _l("Token name"),
    "reason": _l("Reason"),
}

#: Keys only a developer reads (kept in the CSV's raw JSON column).
HIDDEN_KEYS = frozenset({"entry_id", "void_entry_id", "reverses_entry_id", "reversal_entry_id", "card_id",
                         "sha256", "id", "sale_no", "posted_at", "unit_id", "aggregator_id", "receipt_no",
                         "business_date", "idempotency_key"})
DATE_KEYS = frozenset({"effective_from", "requested_from", "start", "end", "business_date"})
MOMENT_KEYS = frozenset({"closed_at", "posted_at"})

ROLE_LABELS = {
    "admin": _l("Admin"),
    "aggregator_staff": _l("Aggregator staff"),
    "unit_manager": _l("Unit manager"),
    "operator": _l("Operator"),
    "collaborator": _l("Collaborator"),
}
MEMBER_KINDS = {getattr(c, "value", None) or c[0]: getattr(c, "label", None) or c[1] for c in KIND_CHOICES}

#: What an action itself says changed: (field label, before, after); None = no before.
IMPLIED = {
    "member.deactivate": (_l("Status"), _l("active"), _l("inactive")),
    "member.reactivate": (_l("Status"), _l("inactive"), _l("active")),
    "member.pin_set": (_l("Self-service PIN"), None, _l("set")),
    "member.pin_clear": (_l("Self-service PIN"), _l("set"), _l("removed")),
    "card.revoke": (_l("Card"), _l("valid"), _l("revoked")),
    "card.issue": (_l("Card"), None, _l("new card issued")),
    "void.deposit": (_l("Status"), _l("valid"), _l("voided")),
    "void.withdrawal": (_l("Status"), _l("paid"), _l("voided")),
    "day.reopen": (_l("Day status"), _l("closed"), _l("open again")),
    "day.close": (_l("Day status"), _l("open"), _l("closed")),
}
#: The status a withdrawal action starts from (the row holds the status after).
WITHDRAWAL_BEFORE = {"withdrawal.approve": "pending", "withdrawal.reject": None, "withdrawal.pay": None}
SNAPSHOT_ACTIONS = {"member.update": ("member.create", "member.update")}

#: ua-parser families shortened for people.
BROWSER_NAMES = {"HeadlessChrome": "Chrome", "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome",
                 "Chrome Mobile WebView": "WebView", "Mobile Safari": "Safari",
                 "Mobile Safari UI/WKWebView": "Safari", "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox",
                 "Edge Mobile": "Edge", "Samsung Internet": "Samsung Internet"}
OS_NAMES = {"Mac OS X": "macOS"}


@dataclass(frozen=True)
class Change:
    """One field of an audit row for people: ``before`` None when the event only states a
    value ("Total: Rp 12.000"); otherwise shown as "before → after"."""

    field: str
    before: str | None
    after: str

    def text(self) -> str:
        """``"Harga beli: Rp 3.000 → Rp 3.250"`` or ``"Total: Rp 12.000"``."""
        if self.before is None:
            return f"{self.field}: {self.after}"
        return f"{self.field}: {self.before} → {self.after}"


@dataclass(frozen=True)
class AuditLine:
    """One audit row as the screen and the CSV show it (texts in the current locale)."""

    row: AuditLog
    when: str
    unit_code: str
    who: str
    action: str
    label: str
    object_text: str
    object_url: str | None
    changes: tuple[Change, ...]
    device: str
    address: str


# --- device ------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _agent_names(agent: str) -> tuple[str, str]:
    parsed = parse_user_agent(agent)
    browser = parsed.user_agent.family if parsed.user_agent and parsed.user_agent.family != "Other" else ""
    if not browser:
        # An app or script the rules do not know ("TabletPengurus/1.0"): its first word.
        browser = agent.split()[0].split("/")[0][:40]
    system = parsed.os.family if parsed.os and parsed.os.family != "Other" else ""
    return BROWSER_NAMES.get(browser, browser), OS_NAMES.get(system, system)


def short_device(device: str) -> tuple[str, str]:
    """The stored ``"<user agent> @ <address>"`` (``services.audit.current_device``) as
    ``(short name, address)``: ``("Chrome di Android", "10.0.0.7")`` in Indonesian; ``"cli"``
    is the command line; an empty agent is "unknown device"."""
    device = device or ""
    if device == "cli":
        return _("Command line"), ""
    agent, sep, address = device.rpartition(" @ ")
    if not sep:
        agent, address = device, ""
    agent, address = agent.strip(), address.strip()
    address = "" if address == "-" else address
    if not agent or agent == "-":
        return _("Unknown device"), address
    browser, system = _agent_names(agent)
    if system:
        return _("%(browser)s on %(os)s", browser=browser, os=system), address
    return browser, address


# --- lookups -------------------------------------------------------------------------------------

class _Lookups:
    """Names behind the codes and ids of a page of audit rows, each loaded in one query."""

    def __init__(self, rows: list[AuditLog], details: dict[int, dict]):
        self.units = {u.id: u for u in db.session.scalars(select(Unit))}
        self.categories = {c.code: c for c in db.session.scalars(select(WasteCategory))}
        member_nos = {r.object_id for r in rows if r.object_type == "member"}
        member_nos |= {str(d["member_no"]) for d in details.values() if d.get("member_no")}
        self.members = {m.member_no: m for m in _in_chunks(Member, Member.member_no, member_nos)}
        ids = {int(r.object_id) for r in rows if r.object_type == "withdrawal" and r.object_id.isdigit()}
        nos = {r.object_id for r in rows if r.object_type == "withdrawal" and not r.object_id.isdigit()}
        found = (list(_in_chunks(Withdrawal, Withdrawal.id, ids))
                 + list(_in_chunks(Withdrawal, Withdrawal.receipt_no, nos)))
        self.withdrawals = {str(w.id): w for w in found} | {w.receipt_no: w for w in found if w.receipt_no}
        offtaker_ids = {int(r.object_id) for r in rows if r.object_type == "offtaker" and r.object_id.isdigit()}
        self.offtakers = {str(o.id): o for o in _in_chunks(Offtaker, Offtaker.id, offtaker_ids)}
        collab_ids = {int(r.object_id) for r in rows if r.object_type == "collaborator" and r.object_id.isdigit()}
        self.collaborators = {str(c.id): c for c in _in_chunks(Collaborator, Collaborator.id, collab_ids)}
        user_ids = {d["closed_by_id"] for d in details.values() if isinstance(d.get("closed_by_id"), int)}
        self.users = {u.id: u for u in _in_chunks(User, User.id, user_ids)}
        self.previous = _previous_snapshots([r for r in rows if r.action in SNAPSHOT_ACTIONS])

    def member_name(self, member_no: str) -> str:
        member = self.members.get(str(member_no))
        return member.name if member else ""

    def category_name(self, code: str) -> str:
        category = self.categories.get(str(code))
        return category.name(get_locale()) if category else str(code)

    def category_unit(self, code: str) -> str:
        category = self.categories.get(str(code))
        return category.unit if category else ""


def _in_chunks(model, column, values, size: int = 500):
    values = list(values)
    for i in range(0, len(values), size):
        yield from db.session.scalars(select(model).where(column.in_(values[i:i + size])))


def _previous_snapshots(rows: list[AuditLog]) -> dict[int, dict]:
    """For each snapshot row (``member.update``), the details of the previous row of the same
    object and family (``member.create`` or ``member.update``), by row id."""
    if not rows:
        return {}
    families = {a for r in rows for a in SNAPSHOT_ACTIONS[r.action]}
    object_ids = {r.object_id for r in rows}
    history: dict[tuple, list[AuditLog]] = {}
    candidates = []
    ids = list(object_ids)
    for i in range(0, len(ids), 500):
        candidates += db.session.scalars(
            select(AuditLog).where(AuditLog.action.in_(families), AuditLog.object_id.in_(ids[i:i + 500]),
                                   AuditLog.id <= max(r.id for r in rows))
            .order_by(AuditLog.id))
    for cand in candidates:
        history.setdefault((cand.unit_id, cand.object_type, cand.object_id), []).append(cand)
    out = {}
    for row in rows:
        earlier = [c for c in history.get((row.unit_id, row.object_type, row.object_id), []) if c.id < row.id]
        if earlier:
            out[row.id] = _details(earlier[-1])
    return out


def _details(row: AuditLog) -> dict:
    try:
        value = json.loads(row.details or "{}")
    except ValueError:
        return {"raw": row.details}
    return value if isinstance(value, dict) else {"raw": value}


# --- values --------------------------------------------------------------------------------------

def _day_text(value) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return str(value)


def _moment_text(value) -> str:
    try:
        return format_local(datetime.fromisoformat(str(value)))
    except (ValueError, TypeError):
        return str(value)


def _lines_text(lines, lk: _Lookups) -> str:
    """Deposit lines ``[[code, milli, rupiah], …]`` or sale lines ``[{category, accepted_milli,
    amount_idr, …}, …]`` as "Kardus 20 kg (Rp 40.000); …"."""
    locale = get_locale()
    parts = []
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, list) and len(line) >= 3:
            code, milli, amount = line[0], line[1], line[2]
        elif isinstance(line, dict):
            code, amount = line.get("category"), line.get("amount_idr")
            milli = line.get("accepted_milli", line.get("quantity_milli"))
        else:
            parts.append(str(line))
            continue
        unit = lk.category_unit(code)
        qty = format_quantity(int(milli), unit, locale) if isinstance(milli, int) and unit else str(milli)
        money = f" ({format_idr(int(amount), locale)})" if isinstance(amount, int) else ""
        parts.append(f"{lk.category_name(code)} {qty}{money}")
    return "; ".join(parts) or "–"


def _labelled(labels):
    """A formatter showing ``labels[value]`` (the value itself when unlabelled)."""
    return lambda value, row, details, lk: str(labels.get(value, value))


def _member_no_text(value, row, details, lk) -> str:
    name = lk.member_name(value)
    return f"{value} · {name}" if name else str(value)


def _kind_text(value, row, details, lk) -> str:
    labels = dict(OFFTAKER_KINDS) if row.object_type == "offtaker" else MEMBER_KINDS
    return str(labels.get(value, value))


def _closed_by_text(value, row, details, lk) -> str:
    user = lk.users.get(value)
    return user.display_name if user else str(value)


def _milli_text(value, row, details, lk) -> str:
    unit = lk.category_unit(details.get("category") or row.object_id)
    return format_quantity(value, unit, get_locale()) if unit else str(value)


# Detail keys shown their own way: key → formatter(value, row, details, lookups).
_KEY_FORMATTERS = {
    "lines": lambda value, row, details, lk: _lines_text(value, lk),
    "member_no": _member_no_text,
    "category": lambda value, row, details, lk: lk.category_name(value),
    "method": _labelled(METHOD_LABELS),
    "status": _labelled(STATUS_LABELS),
    "payment": _labelled(dict(PAYMENTS)),
    "kind": _kind_text,
    "role": _labelled(ROLE_LABELS),
    "closed_by_id": _closed_by_text,
}


def _formatter(key: str, value):
    """The formatter for ``key`` holding ``value``: by name, then by the suffix of the name
    (``_idr`` rupiah, ``_milli`` thousandths) or its kind (dates, moments), else None."""
    if key in _KEY_FORMATTERS:
        return _KEY_FORMATTERS[key]
    if isinstance(value, int) and key.endswith("_idr"):
        return lambda value, row, details, lk: format_idr(value, get_locale())
    if isinstance(value, int) and key.endswith("_milli"):
        return _milli_text
    if key in DATE_KEYS:
        return lambda value, row, details, lk: _day_text(value)
    if key in MOMENT_KEYS:
        return lambda value, row, details, lk: _moment_text(value)
    if key == "revoked_card_ids" and isinstance(value, list):
        return lambda value, row, details, lk: str(len(value))
    return None


def field_value(key: str, value, row: AuditLog, details: dict, lk: _Lookups) -> str:
    """One detail value for people: rupiah, quantities in the category's unit, dates, labels
    of methods, statuses, kinds and roles, names beside member numbers."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    formatter = _formatter(key, value)
    if formatter is not None:
        return formatter(value, row, details, lk)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def _ordered(keys) -> list[str]:
    order = {k: i for i, k in enumerate(FIELD_LABELS)}
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


# --- changes -------------------------------------------------------------------------------------

def _implied_change(row: AuditLog, d: dict, value) -> list[Change]:
    implied = IMPLIED.get(row.action)
    if not implied:
        return []
    field, before, after = implied
    return [Change(str(field), None if before is None else str(before), str(after))]


def _withdrawal_status_change(row: AuditLog, d: dict, value) -> list[Change]:
    if row.action not in WITHDRAWAL_BEFORE or "status" not in d:
        return []
    before = WITHDRAWAL_BEFORE[row.action]
    return [Change(_label("status"), None if before is None else value("status", before),
                   value("status", d.pop("status")))]


def _require_pin_change(row: AuditLog, d: dict, value) -> list[Change]:
    if row.action != "unit.require_pin" or not isinstance(d.get("require_pin"), bool):
        return []
    after = d.pop("require_pin")
    return [Change(_label("require_pin"), value("require_pin", not after), value("require_pin", after))]


def _renumber_change(row: AuditLog, d: dict, value) -> list[Change]:
    if row.action != "member.renumber" or "to" not in d:
        return []
    return [Change(_("Member number"), str(d.pop("from", "") or "–"), str(d.pop("to")))]


def _stock_adjust_changes(row: AuditLog, d: dict, value) -> list[Change]:
    """Quantity and value at cost before → after a stock adjustment (after − delta)."""
    if row.action != "stock.adjust" or not isinstance(d.get("quantity_after_milli"), int):
        return []
    out = []
    after_q, delta = d.pop("quantity_after_milli"), d.get("quantity_milli")
    if isinstance(delta, int):
        out.append(Change(_label("quantity_after_milli"), value("quantity_after_milli", after_q - delta),
                          value("quantity_after_milli", after_q)))
    after_v, amount = d.pop("value_after_idr", None), d.pop("amount_idr", None)
    if isinstance(after_v, int) and isinstance(amount, int):
        out.append(Change(_label("value_after_idr"), value("value_after_idr", after_v - amount),
                          value("value_after_idr", after_v)))
    return out


# What an action itself says changed, in this order; each takes its keys out of the details.
_ACTION_CHANGES = (_implied_change, _withdrawal_status_change, _require_pin_change, _renumber_change,
                   _stock_adjust_changes)


def _before_after_changes(d: dict, value) -> list[Change]:
    """The fields that differ between the details' ``before`` and ``after`` maps."""
    before_map, after_map = d.pop("before", None), d.pop("after", None)
    if not (isinstance(before_map, dict) or isinstance(after_map, dict)):
        return []
    before_map, after_map = before_map or {}, after_map or {}
    return [Change(_label(key), value(key, before_map.get(key)) if key in before_map else None,
                   value(key, after_map.get(key)))
            for key in _ordered(set(before_map) | set(after_map))
            if key not in HIDDEN_KEYS and before_map.get(key) != after_map.get(key)]


def _replaced_changes(d: dict, out: list[Change], value) -> None:
    """``replaced_X``/``previous_X`` beside ``X``: one change X old → new, appended to ``out``
    unless X is already there."""
    for prefix in ("replaced_", "previous_"):
        for key in [k for k in d if k.startswith(prefix)]:
            base = key[len(prefix):]
            old = d.pop(key)
            if base in d and not any(c.field == _label(base) for c in out):
                new = d.pop(base)
                out.append(Change(_label(base), None if old == new else value(base, old), value(base, new)))


def _snapshot_changes(row: AuditLog, d: dict, lk: _Lookups, value) -> list[Change] | None:
    """For a snapshot action: the fields that differ from the object's previous snapshot (or
    "none"), or None when there is no previous snapshot."""
    previous = lk.previous.get(row.id) if row.action in SNAPSHOT_ACTIONS else None
    if previous is None:
        return None
    changed = [k for k in _ordered(d) if k not in HIDDEN_KEYS and previous.get(k) != d.get(k)]
    out = [Change(_label(k), value(k, previous.get(k)), value(k, d.get(k))) for k in changed]
    return out or [Change(_("Changes"), None, _("none (saved without changes)"))]


def _remaining_changes(row: AuditLog, d: dict, value) -> list[Change]:
    """The details left, each as a value without a before."""
    if row.object_type in ("price", "stock"):
        d.pop("category", None)  # the object already names it
    return [Change(_label(key), None, value(key, d[key])) for key in _ordered(d)
            if key not in HIDDEN_KEYS and not (key == "revoked_card_ids" and not d[key])]


def changes_of(row: AuditLog, details: dict, lk: _Lookups) -> list[Change]:
    """The fields of ``row`` for people, "before → after" where the before is known (see the
    module's docstring for where it comes from)."""
    d = dict(details)

    def value(key, v):
        return field_value(key, v, row, details, lk)

    out = [change for rule in _ACTION_CHANGES for change in rule(row, d, value)]
    out += _before_after_changes(d, value)
    _replaced_changes(d, out, value)
    snapshot = _snapshot_changes(row, d, lk, value)
    if snapshot is not None:
        return out + snapshot
    return out + _remaining_changes(row, d, value)


# --- objects -------------------------------------------------------------------------------------

def _endpoint(name: str) -> bool:
    return name in current_app.view_functions


def _join(*parts) -> str:
    """Non-empty parts joined by spaces; "Nasabah RW05-0001 · Siti" (a name after a "·")."""
    parts = [str(p) for p in parts if p not in (None, "")]
    if len(parts) == 3 and parts[1] != "·":
        parts.insert(2, "·")
    return " ".join(parts)


def _member_object(oid, details, lk):
    return _join(_("Member"), oid, lk.member_name(oid)), url_for("members.show", member_no=oid)


def _withdrawal_object(oid, details, lk):
    found = lk.withdrawals.get(oid)
    number = (found.receipt_no if found and found.receipt_no else details.get("receipt_no")) or f"#{oid}"
    return (_join(_("Withdrawal"), number),
            # The manager's own page: looking never marks the member's receipt as shown (F9).
            url_for("manager.withdrawal", withdrawal_id=found.id) if found else None)


def _withdrawal_key_object(oid, details, lk):
    """A withdrawal cancelled on the tablet that the server never recorded: only its request
    key (``withdrawal.cancel_unsent``), nothing to link to."""
    return _("Withdrawal request %(key)s", key=details.get("idempotency_key") or oid), None


def _day_close_object(oid, details, lk):
    return (_join(_("Cash book"), _day_text(oid)),
            url_for("manager.cashbook", day=oid) if _endpoint("manager.cashbook") else None)


def _price_object(oid, details, lk):
    return (_join(_("Price"), "·", lk.category_name(oid)),
            url_for("manager.price_category", code=oid) if _endpoint("manager.price_category") else None)


def _offtaker_object(oid, details, lk):
    found = lk.offtakers.get(oid)
    return (_join(_("Off-taker"), "·", found.name if found else details.get("name", oid)),
            url_for("manager.offtakers"))


def _collaborator_object(oid, details, lk):
    found = lk.collaborators.get(oid)
    return _join(_("Collaborator"), "·", found.name if found else details.get("name", oid)), None


# object_type → (text, url) of the object, from its id, the row's details and the lookups.
_OBJECTS = {
    "member": _member_object,
    "deposit": lambda oid, details, lk: (_join(_("Deposit"), oid), url_for("counter.receipt", receipt_no=oid)),
    "withdrawal": _withdrawal_object,
    "withdrawal_key": _withdrawal_key_object,
    "sale": lambda oid, details, lk: (_join(_("Sale"), oid), url_for("manager.sale", sale_no=oid)),
    "day_close": _day_close_object,
    "price": _price_object,
    "stock": lambda oid, details, lk: (_join(_("Stock"), "·", lk.category_name(oid)), url_for("manager.stock")),
    "offtaker": _offtaker_object,
    "member_import": lambda oid, details, lk: (
        _join(_("Member import"), "·", details.get("filename") or oid), None),
    "user": lambda oid, details, lk: (_join(_("User"), oid), None),
    "unit": lambda oid, details, lk: (_join(_("Unit"), oid), None),
    "api_token": lambda oid, details, lk: (_join(_("Access token"), f"#{oid}"), None),
    "collaborator": _collaborator_object,
}


def object_of(row: AuditLog, details: dict, lk: _Lookups, linkable: bool) -> tuple[str, str | None]:
    """``(text, url)`` of the row's object; the url only when ``linkable`` (the viewer's unit)."""
    kind, oid = row.object_type, row.object_id
    describe = _OBJECTS.get(kind)
    if describe is None:
        return f"{kind} {oid}".strip() or "–", None
    text, url = describe(oid, details, lk)
    return text, (url if linkable else None)


# --- lines ---------------------------------------------------------------------------------------

def audit_lines(rows: list[AuditLog], viewer_unit_id: int | None) -> list[AuditLine]:
    """The rows for people. Objects link only for rows of ``viewer_unit_id`` (a manager's own
    unit; admins, None, see text): the linked screens are scoped to the viewer's unit."""
    details = {r.id: _details(r) for r in rows}
    lk = _Lookups(rows, details)
    out = []
    for row in rows:
        d = details[row.id]
        unit = lk.units.get(row.unit_id)
        linkable = viewer_unit_id is not None and row.unit_id == viewer_unit_id
        text, url = object_of(row, d, lk, linkable)
        device, address = short_device(row.device)
        who = (row.user.display_name if row.user.display_name == row.user.username
               else f"{row.user.display_name} ({row.user.username})") if row.user else _("System")
        out.append(AuditLine(row=row, when=format_local(row.created_at), unit_code=unit.code if unit else "–",
                             who=who, action=row.action, label=action_label(row.action), object_text=text,
                             object_url=url, changes=tuple(changes_of(row, d, lk)), device=device,
                             address=address))
    return out


def action_choices() -> list[tuple[str, str]]:
    """``(code, label)`` of every labelled action, by label in the current locale."""
    return sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda c: c[1].lower())


def audit_csv_table(lines: list[AuditLine], fmt: str = "names") -> tuple[list, list[list]]:
    """``(header, rows)`` of the CSV export (``reports.csvfile.csv_bytes``): ``"names"`` has
    the screen's texts under headers in the reader's language; ``"codes"`` stable snake_case
    headers with the stored codes, raw details (JSON) and the full device string."""
    if fmt == "codes":
        header = ["created_at", "unit", "username", "action", "object_type", "object_id", "details", "device"]
        rows = [[line.row.created_at.isoformat(), line.unit_code, line.row.user.username if line.row.user else "",
                 line.action, line.row.object_type, line.row.object_id, line.row.details, line.row.device]
                for line in lines]
        return header, rows
    header = [_("When"), _("Unit"), _("Who"), _("Action"), _("Action code"), _("Object"), _("Changes"),
              _("Device"), _("IP address"), _("Raw details (JSON)")]
    rows = [[line.when, line.unit_code, line.who, line.label, line.action, line.object_text,
             "; ".join(c.text() for c in line.changes), line.device, line.address, line.row.details]
            for line in lines]
    return header, rows


# --- filters -------------------------------------------------------------------------------------

#: The CSV export holds at most this many rows (newest first); a day or a user narrows it.
CSV_MAX_ROWS = 50_000


@dataclass
class AuditFilters:
    """What the audit screen and its CSV show, from the query string: the units in scope
    (``unit_ids`` None = all, admins), the local ``day``, the ``user`` and the ``action``
    (an exact code from ``ACTION_LABELS``, or a family prefix such as ``sale``)."""

    unit_ids: list[int] | None
    viewer_unit_id: int | None
    units: list[Unit]
    unit_code: str
    day: date | None
    user: User | None
    users: list[User]
    action: str

    def query(self) -> dict:
        """Keyword arguments of ``services.audit.audit_entries``."""
        exact = self.action in ACTION_LABELS
        return {"action": self.action if exact else "", "action_prefix": "" if exact else self.action,
                "user_id": self.user.id if self.user else None, "day": self.day}

    def args(self) -> dict:
        """The filters as query arguments (for paging and the CSV link); empty ones left out."""
        out = {"unit": self.unit_code, "day": self.day.isoformat() if self.day else "",
               "user": self.user.username if self.user else "", "action": self.action}
        return {k: v for k, v in out.items() if v}


def audit_filters(viewer: User) -> AuditFilters:
    """The filters of the current request for ``viewer``: a unit manager sees the own unit;
    an admin every unit or the one in ``?unit=<code>`` (404 for an unknown code). A bad
    ``?day=`` or an unknown ``?user=`` answers 400 with the message (``inputs``)."""
    from ..auth.permissions import counter_unit, has_permission
    from ..inputs import day_arg, refuse, text_arg

    units: list[Unit] = []
    code = ""
    if has_permission(viewer, "scope.all_units"):
        units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
        code = text_arg("unit", max_length=20).upper()
        chosen = next((u for u in units if u.code == code), None)
        if code and chosen is None:
            from flask import abort
            abort(404)
        unit_ids = [chosen.id] if chosen else None
        viewer_unit_id = None
    else:
        viewer_unit_id = counter_unit(viewer).id
        unit_ids = [viewer_unit_id]
    users_stmt = select(User).order_by(User.username)
    if unit_ids is not None:
        # Staff of the unit, and anyone else who wrote a row there (admins, aggregator staff).
        writers = select(AuditLog.user_id).where(AuditLog.unit_id.in_(unit_ids), AuditLog.user_id.is_not(None))
        users_stmt = users_stmt.where(User.unit_id.in_(unit_ids) | User.id.in_(writers))
    users = list(db.session.scalars(users_stmt))
    username = text_arg("user", max_length=80)
    user = next((u for u in users if u.username == username), None)
    if username and user is None:
        refuse(_("No such user in this audit log."))
    day = day_arg("day")
    action = text_arg("action", max_length=50)
    return AuditFilters(unit_ids=unit_ids, viewer_unit_id=viewer_unit_id, units=units, unit_code=code, day=day,
                        user=user, users=users, action=action)
