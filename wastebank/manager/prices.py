"""The price list editor (issue 9 item 1): ``/manager/prices``.

Unit managers see and change their own unit's prices; admins any unit's, chosen with
``?unit=<code>`` (default: the first unit by code). Another unit asked for by a manager, or an
unknown unit, answers 404; operators and every other role 403 (``price.edit``). Every change
goes through ``services.catalog.set_price`` — the same function ``flask price set`` uses — so
the rules (docs/prices.md) and the audit row are the same from the web and the command line.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import Length

from ..auth.permissions import counter_unit, has_permission, require
from ..extensions import db
from ..inputs import BaseForm, DayField
from ..models import Unit, User, WasteCategory, utcnow
from ..money import format_idr
from ..services import idempotency
from ..services.catalog import PriceChange, parse_prices, price_history, price_list, set_price, set_prices
from ..services.errors import DomainError, IdempotencyConflict, ValidationFailed
from ..services.transaction import run_in_transaction
from ..timeutil import format_clock, local_today
from . import bp


class PriceForm(BaseForm):
    """One category's new price: buy and sell rupiah text (``"3.250"``) and the first day
    (ISO date from the date input; empty = today). ``idempotency_key`` (hidden, made when the
    form is shown) stays the same when the form is sent again after a lost reply."""

    buy = StringField(_l("Buy price (paid to members)"), validators=[Length(max=30)])
    sell = StringField(_l("Sell price (expected from off-takers)"), validators=[Length(max=30)])
    effective_from = DayField(_l("Applies from"))
    idempotency_key = HiddenField(validators=[Length(max=100)])


class BulkPriceForm(BaseForm):
    """The weekly update: one date for all rows. The rows travel as ``buy-<CODE>`` and
    ``sell-<CODE>`` fields with ``was-<CODE>`` holding what the form showed (``"3250:4500"``),
    so only rows the manager changed become new prices. ``idempotency_key`` (hidden, made when
    the form is shown) stays the same when the form is sent again after a lost reply."""

    effective_from = DayField(_l("Applies from"))
    idempotency_key = HiddenField(validators=[Length(max=100)])


def _scope() -> tuple[Unit, list[Unit]]:
    """The unit whose prices are shown, and (admins only) the units to choose from."""
    code = (request.values.get("unit") or "").strip().upper()
    if has_permission(current_user, "scope.all_units"):
        units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
        if not units:
            abort(404)
        chosen = next((u for u in units if u.code == code), None) if code else units[0]
        if chosen is None:
            abort(404)
        return chosen, units
    unit = counter_unit(current_user)
    if code and code != unit.code:
        abort(404)  # another unit's price list does not exist for this manager
    return unit, []


def _unit_arg(unit: Unit) -> dict:
    """``?unit=`` for admins' links and redirects; managers need none."""
    return {"unit": unit.code} if has_permission(current_user, "scope.all_units") else {}


def _setters(prices) -> dict[int, str]:
    """user id → the name shown as "set by"."""
    ids = {p.created_by_id for p in prices if p is not None and p.created_by_id}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _day_text() -> str:
    """What the date input shows: what was sent, or today's date on a fresh form."""
    if request.method == "POST":
        return (request.form.get("effective_from") or "").strip()[:10]
    return local_today().isoformat()


def _was(price) -> str:
    return f"{price.buy_price_idr}:{price.sell_price_idr}" if price is not None else ""


def _typed_change(row, errors: dict[str, str], values: dict[str, tuple[str, str]]) -> PriceChange | None:
    """The change the bulk form asks for ``row`` (a ``price_list`` row), or None when the row
    is untouched, typed the same figures differently ("3.250" for 3250) or wrong (its message
    then in ``errors[code]``). The typed texts go into ``values[code]`` to show them again."""
    code = row.category.code
    buy_text = (request.form.get(f"buy-{code}") or "").strip()[:30]
    sell_text = (request.form.get(f"sell-{code}") or "").strip()[:30]
    values[code] = (buy_text, sell_text)
    was = (request.form.get(f"was-{code}") or "").strip()
    shown = tuple(was.split(":", 1)) if ":" in was else ("", "")
    if (buy_text, sell_text) == shown or (not buy_text and not sell_text and not was):
        return None  # untouched row
    if not buy_text:
        errors[code] = _("Enter the buy price; a price cannot be removed.") if row.current else \
            _("Enter the buy price.")
        return None
    try:
        buy, sell = parse_prices(buy_text, sell_text)
    except ValidationFailed as exc:
        errors[code] = str(exc.message)
        return None
    if (str(buy), str(sell)) == shown:
        return None
    return PriceChange(row.category, buy, sell)


def _html(message: str, **figures) -> Markup:
    """``message`` (a translation, its ``%(name)s`` not filled in yet: ``_("…")`` without
    arguments) filled in as HTML for a flash or a refusal: the text and the figures escaped, a
    figure already HTML (a date from :func:`_day`, a part from ``_html``) kept as it is."""
    return escape(message) % figures


def _day(day: date) -> Markup:
    """A date in a message, ``07-12-2026``, as ``<time>``: app.css keeps it on one line (at
    800 px the confirmation broke it at a hyphen, "07-" / "12-2026")."""
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), day.strftime("%d-%m-%Y"))


def _save_once(unit: Unit, form, operation: str, canonical: dict, work: Callable[[], tuple[int, dict]],
               saved_first: Callable[[dict], Markup | None], problems: list) -> idempotency.Outcome | None:
    """Run a price form's ``work`` in one transaction through the idempotency envelope, under
    the form's hidden key (``operation`` ``price_bulk`` for the weekly form, ``price_set`` for
    one category's): the answer, ``replayed`` for the second tap after a lost reply (nothing is
    written again). None when the key already saved other values (a figure corrected after a
    lost reply): ``problems`` then gets ``saved_first(first answer)``, naming what was saved
    first, and the key stays, so saving again is refused again; when the key saved nothing
    (``saved_first`` gives None) it gets "already sent with other values" and the form a fresh
    key. A post without a key (a page shown before keys) saves under a key of its own. The
    work's ValidationFailed and DomainError pass through (nothing written)."""
    key = (form.idempotency_key.data or "").strip() or uuid.uuid4().hex
    try:
        return run_in_transaction(lambda: idempotency.execute(unit, key, operation, canonical, work,
                                                              user_id=current_user.id))
    except IdempotencyConflict:
        first = idempotency.saved_answer(unit.id, key, operation)
        named = saved_first(first) if first is not None else None
        if named is None:
            form.idempotency_key.data = uuid.uuid4().hex
            problems.append(_("This form was already sent with other values. Check and save again."))
        else:
            problems.append(named)
        return None


def _save_prices(unit: Unit, form: BulkPriceForm, changes: list[PriceChange], day, errors: dict[str, str],
                 general: list[str]) -> bool:
    """Write ``changes`` from ``day`` in one transaction, all or nothing; True when written
    (with the flash), else the refusal is in ``errors`` (per row) or ``general``.

    Run through :func:`_save_once` (operation ``price_bulk``, body ``{"n", "day", "at"}``): the
    second tap after a lost reply says the prices were saved, as done (it said "No price
    changed", as if the first tap had failed), and writes nothing; the same key with other
    values names what was saved first and keeps the key."""
    canonical = {"day": day.isoformat(), "changes": sorted(
        [c.category.code, c.buy_price_idr, c.sell_price_idr] for c in changes)}

    def work() -> tuple[int, dict]:
        written = set_prices(unit.id, changes, day, current_user.id)
        return 200, {"n": len(written), "day": day.isoformat(), "at": utcnow().isoformat()}

    def saved_first(first: dict) -> Markup | None:
        if not first["n"]:  # nothing was written under this key
            return None
        return _html(_("The prices of this form were already saved at %(time)s before the connection dropped "
                       "(%(n)s prices, applying from %(day)s), with other values. They are not saved again: "
                       "check the prices in force above, and open the price list again for another change."),
                     **_saved_figures(first))
    try:
        outcome = _save_once(unit, form, "price_bulk", canonical, work, saved_first, general)
    except ValidationFailed as exc:
        for field, (_code, message) in exc.errors.items():
            errors[field.split(".", 1)[0]] = str(message)
        return False
    except DomainError as exc:
        general.append(str(exc.message))
        return False
    if outcome is None:
        return False
    body = outcome.body
    if not body["n"]:
        flash(_("No price changed."), "ok")
    elif outcome.replayed:
        flash(_html(_("These prices were already saved at %(time)s: %(n)s prices, applying from %(day)s. Nothing "
                      "was saved again."), **_saved_figures(body)), "ok")
    else:
        flash(_html(_("%(n)s prices saved, applying from %(day)s."), n=body["n"], day=_day(day)), "ok")
    return True


def _saved_figures(body: dict) -> dict:
    """The stored answer of a price form as the messages' figures: ``day`` (DD-MM-YYYY, kept on
    one line), ``time`` (local ``15.00 WIB``) of the first save, and ``n`` (bulk) when stored."""
    figures = {"day": _day(date.fromisoformat(body["day"])), "time": format_clock(datetime.fromisoformat(body["at"]))}
    if "n" in body:
        figures["n"] = body["n"]
    return figures


@bp.route("/prices", methods=["GET", "POST"])
@require("price.edit")
def prices():
    """The unit's price list (price in force, since when, who set it, the next one) and the
    bulk form for the weekly update. POST saves the changed rows, all or nothing."""
    unit, units = _scope()
    rows = price_list(unit.id)
    form = BulkPriceForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    errors: dict[str, str] = {}
    general: list[str] = []
    values: dict[str, tuple[str, str]] = {}
    if request.method == "POST":
        valid = form.validate()
        day = form.effective_from.data or local_today()
        changes = [change for change in (_typed_change(row, errors, values) for row in rows) if change is not None]
        if not valid:
            general += form.error_messages() or [_("Choose the day the new prices apply from.")]
        elif not errors and _save_prices(unit, form, changes, day, errors, general):
            return redirect(url_for("manager.prices", **_unit_arg(unit)))
        if errors:
            general.insert(0, _("Nothing was saved. Correct the rows marked below."))
    all_prices = [r.current for r in rows] + [r.upcoming for r in rows]
    return render_template("manager/prices.html", unit=unit, units=units, rows=rows, form=form,
                           setters=_setters(all_prices), errors=errors, general=general, values=values,
                           was=_was, unit_arg=_unit_arg(unit), day_text=_day_text()), (422 if general else 200)


@bp.route("/prices/<code>", methods=["GET", "POST"])
@require("price.edit")
def price_category(code: str):
    """One category's price history at the unit (newest first) and a form for its next price.

    The form's hidden ``idempotency_key`` runs the save through :func:`_save_once` (operation
    ``price_set``): the second tap after a lost reply says the price is saved, as done, and
    writes nothing (it replaced the same day's price and wrote a second ``price.set`` audit
    row); the same key with other figures names the price saved first and keeps the key."""
    unit, units = _scope()
    category = db.session.scalar(select(WasteCategory).where(WasteCategory.code == code.strip().upper()[:30]))
    if category is None:
        abort(404)
    form = PriceForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    errors: list[str] = []
    field_errors: dict[str, str] = {}  # form field → its message, shown next to the field
    if request.method == "POST":
        if not form.validate():
            for name in _PRICE_FIELDS.values():
                if getattr(form, name).errors:
                    field_errors[name] = str(getattr(form, name).errors[0])
            errors += form.error_messages() or [_("Choose the day the new price applies from.")]
        elif _save_one(unit, category, form, errors, field_errors):
            return redirect(url_for("manager.price_category", code=category.code, **_unit_arg(unit)))
    history = price_history(unit.id, category.id)
    today = local_today()
    in_force = next((p for p in history if p.effective_from <= today), None)
    if request.method == "GET" and in_force is not None:
        form.buy.data = str(in_force.buy_price_idr)
        form.sell.data = str(in_force.sell_price_idr) if in_force.sell_price_idr else ""  # 0 = not set
    return render_template("manager/price_category.html", unit=unit, units=units, category=category, form=form,
                           history=history, in_force=in_force, today=today, setters=_setters(history),
                           errors=errors, field_errors=field_errors, unit_arg=_unit_arg(unit),
                           day_text=_day_text()), (422 if errors else 200)


def _save_one(unit: Unit, category: WasteCategory, form: PriceForm, errors: list, field_errors: dict) -> bool:
    """Save one category's price from the form, once per its key (:func:`_save_once`,
    operation ``price_set``); True when saved or already saved by this key (with the flash),
    else the refusal is in ``errors`` (and ``field_errors``, field → message)."""
    day = form.effective_from.data or local_today()
    try:
        buy, sell = parse_prices(form.buy.data or "", form.sell.data or "")
        canonical = {"category": category.code, "buy": buy, "sell": sell, "day": day.isoformat()}
        outcome = _save_once(unit, form, "price_set", canonical, lambda: _set_one(unit, category, buy, sell, day),
                             lambda first: _price_saved_first(category, first), errors)
    except ValidationFailed as exc:
        errors += _field_messages(exc, field_errors)
        return False
    except DomainError as exc:
        errors.append(str(exc.message))
        return False
    if outcome is None:
        return False
    flash(_price_saved(category, outcome.body, outcome.replayed), "ok")
    return True


def _set_one(unit: Unit, category: WasteCategory, buy: int, sell: int, day: date) -> tuple[int, dict]:
    """One category's price saved (``set_price``) as the envelope's answer: the figures and the
    first day written (a first price applies from the unit's start) and the time of the save."""
    price = set_price(unit.id, category, buy, sell, day, current_user.id)
    return 200, {"category": category.code, "buy": price.buy_price_idr, "sell": price.sell_price_idr,
                 "day": price.effective_from.isoformat(), "at": utcnow().isoformat()}


def _price_figures(category: WasteCategory, body: dict) -> Markup:
    """"beli Rp 3.250, jual Rp 4.500 per kg" of a saved price; a sell price of 0 reads "not set
    yet" (docs/prices.md), not "jual Rp 0"."""
    if body["sell"]:
        return _html(_("buy %(buy)s, sell %(sell)s per %(unit)s"), buy=_idr(body["buy"]), sell=_idr(body["sell"]),
                     unit=category.unit)
    return _html(_("buy %(buy)s per %(unit)s, no sell price yet"), buy=_idr(body["buy"]), unit=category.unit)


def _price_saved(category: WasteCategory, body: dict, replayed: bool) -> Markup:
    """The flash "Harga baru … disimpan" with the new figures; the second tap after a lost reply
    (``replayed``): "Harga baru … sudah tersimpan pukul …", as done."""
    if replayed:
        return _html(_("The new price of %(category)s was already saved at %(time)s: %(figures)s, from %(day)s. "
                       "Nothing was saved again."), category=category.name(get_locale()),
                     figures=_price_figures(category, body), **_saved_figures(body))
    day = _day(date.fromisoformat(body["day"]))
    if body["sell"]:
        return _html(_("New price of %(category)s saved: buy %(buy)s, sell %(sell)s per %(unit)s, from %(day)s."),
                     category=category.name(get_locale()), buy=_idr(body["buy"]), sell=_idr(body["sell"]),
                     unit=category.unit, day=day)
    return _html(_("New price of %(category)s saved: buy %(buy)s per %(unit)s, no sell price yet, from %(day)s."),
                 category=category.name(get_locale()), buy=_idr(body["buy"]), unit=category.unit, day=day)


def _price_saved_first(category: WasteCategory, first: dict) -> Markup:
    """The refusal of one category's form (``category``'s page) sent again with its key and
    other figures: the price the key saved first (of the category its code names)."""
    if first["category"] != category.code:
        category = db.session.scalar(select(WasteCategory).where(WasteCategory.code == first["category"])) or category
    return _html(_("The price of this form was already saved at %(time)s before the connection dropped "
                   "(%(category)s: %(figures)s, from %(day)s), with other values. It is not saved again: check "
                   "the price history below, and open this page again for another change."),
                 category=category.name(get_locale()), figures=_price_figures(category, first), **_saved_figures(first))


#: The service's field (``parse_prices``/``set_price``) → the price form's field.
_PRICE_FIELDS = {"buy_price_idr": "buy", "sell_price_idr": "sell", "effective_from": "effective_from"}
_PRICE_LABELS = {"buy": _l("Buy price"), "sell": _l("Sell price"), "effective_from": _l("Applies from")}


def _field_messages(exc: ValidationFailed, field_errors: dict[str, str]) -> list[str]:
    """The refusal's messages, each naming its field ("Harga jual: Hanya rupiah bulat, mis.
    3.250."); each field's own message also goes into ``field_errors`` (form field → text)."""
    messages = []
    for field, (_code, message) in exc.errors.items():
        name = _PRICE_FIELDS.get(field)
        if name is None:
            messages.append(str(message))
            continue
        field_errors[name] = str(message)
        label = str(_PRICE_LABELS[name])
        messages.append(f"{label}: {message}")
    return messages


def _idr(amount: int) -> str:
    return format_idr(amount, get_locale())
