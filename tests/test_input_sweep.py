"""Issue 10 item 8: every HTML route, every form field and query argument, hostile values.

Nothing here is listed by hand except the path values (a member number, a receipt, a token…)
that make a route reachable. The sweep

1. walks ``app.url_map`` (the JSON API has its own schema checks and is left out),
2. finds for each route the role that may use it (the first of manager, admin, aggregator,
   collaborator, operator, anonymous that is not sent to the login page or refused),
3. discovers the fields: the ``<form>`` elements of every page rendered in step 2 (by their
   ``action``), plus every argument and form key the view *reads* on a plain request (the
   request's ``MultiDict`` records the keys asked for, which covers WTForms forms bound to
   ``request.args``/``request.form`` and ``request.args.get(...)`` alike),
4. sends each payload to each field — the other fields keep the page's own values, the CSRF
   token included, so the check stays on — and asserts: no 5xx; a refusal (4xx) changed no
   row of any table; a value breaking the text rule or the size limit was not stored even
   when the page answered 2xx/3xx; and the ledger still verifies after anything accepted.

One app and database for the whole sweep, the Flask test client, no browser.
"""
from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import request
from sqlalchemy import event, select, text
from werkzeug.datastructures import ImmutableMultiDict

from wastebank.extensions import db
from wastebank.models import ApiToken, Deposit, MemberCard, Offtaker, Sale, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import verify_ledger
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .conftest import RequestIsolatingClient
from .factories import PASSWORD

PAYLOADS = {
    "empty": "",
    "1MB": "x" * 1_000_000,
    "NUL": "Budi\x00",
    "NUL only": "\x00",
    "ANSI": "\x1b[31mBudi",
    "RTL override": "\u202eBudi",
    "zero-width only": "\u200b\u200c\u200d",
    "emoji": "Budi \U0001f600",
    "-5": "-5",
    "2^63": "9223372036854775808",
    "-2^63-1": "-9223372036854775809",
    "1e309": "1e309",
    "NaN": "NaN",
    "superscript two": "\u00b2",
    "CRLF": "Budi\r\nSiti",
    "year 1": "0001-01-01",
    "year 9999": "9999-12-30",
}
# Values that must never be stored, whatever the page answers (wastebank.text; field limits).
NEVER_STORED = {"1MB", "NUL", "NUL only", "ANSI", "RTL override", "zero-width only"}

# Downloads of personal data that issue 12 requires to be audited: a served download (200, with
# an unknown ``format``/``sep`` falling back to the default) writes its ``export.levy`` row, whose
# details are counts and the normalised format, never the request's text.
AUDITED_DOWNLOADS = ("/reports/levy/",)

# The CSRF token is checked once for every route, by CSRFProtect before any view runs: its
# field gets the values that could reach that check differently, not every one.
CSRF_PAYLOADS = {"empty", "1MB", "NUL", "zero-width only", "emoji", "CRLF"}

ROLE_ORDER = ("mgr_a", "admin", "agg", "collab", "op_a", None)
# Ending the session would log the sweep's own client out: those routes run anonymous.
SESSION_ENDING = {"auth.logout"}


# --- recording which keys a view reads ---------------------------------------------------------


class RecordingDict(ImmutableMultiDict):
    """A request MultiDict that remembers every key a view asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        self.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.read.add(key)
        return super().getlist(key, type)


READ: dict[str, set[str]] = {"args": set(), "form": set()}


def _install_recorder(app) -> None:
    """This app's requests (only this app's: a subclass) record the keys their views read."""
    app.request_class = type("RecordingRequest", (app.request_class,), {"parameter_storage_class": RecordingDict})

    @app.after_request
    def remember(response):
        for where in ("args", "form"):
            values = getattr(request, where)
            READ[where] = set(getattr(values, "read", ()))
        return response


# --- the forms on a page ---------------------------------------------------------------------


class FormParser(HTMLParser):
    """``forms``: ``[{"action", "method", "fields": {name: [values]}}]`` of an HTML page."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    # Complexity over 10, kept: one branch per form element kind the sweep fills.
    def handle_starttag(self, tag, attrs):  # noqa: C901
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                               "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                fields.setdefault(name, [])
                if kind == "submit" and attrs.get("value") is not None and not fields[name]:
                    fields[name].append(attrs["value"])
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                fields.setdefault(name, [])
                return
            fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "button" and name:
            fields.setdefault(name, [])
        elif tag in ("textarea",) and name:
            fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, [])
        elif tag == "option" and self._select and not self.forms[-1]["fields"][self._select]:
            self.forms[-1]["fields"][self._select].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


# --- what a request wrote -------------------------------------------------------------------

_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?(?:\s+SET\s+(.*?)\s+WHERE)?",
                    re.I | re.S)
# Writes a request rightly makes whatever it is sent: the first view of a receipt claims the
# original (receipt_shown_at), a wrong PIN counts (and may lock), a token's use is noted.
VOLATILE = re.compile(r"receipt_shown_at|pin_|last_used|last_seen|last_login", re.I)


class WriteLog:
    """The statements that changed rows and were committed, per table, recorded from the
    engine's events: a write in a transaction that was rolled back is no write."""

    def __init__(self, engine):
        self.pending: list[tuple[str, str]] = []
        self.committed: list[tuple[str, str]] = []
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        match = _WRITE.match(statement)
        if match:
            self.pending.append((match.group(2).lower(), match.group(3) or ""))

    def _commit(self, conn):
        self.committed += self.pending
        self.pending = []

    def _rollback(self, conn):
        self.pending = []

    def take(self) -> list[tuple[str, str]]:
        """The committed writes since the last call, volatile ones left out."""
        out = []
        for table, columns in self.committed:
            assigned = re.findall(r'"?(\w+)"?\s*=', columns)
            if not (assigned and all(VOLATILE.search(column) for column in assigned)):
                out.append((table, columns))
        self.committed = []
        return out


# --- data that makes every route reachable ----------------------------------------------------


def _seed(net) -> dict:
    unit, member = net.unit_a, net.members_a[0]
    op, mgr = net.users["op_a"], net.users["mgr_a"]
    deposit = run_in_transaction(lambda: record_deposit(
        unit, member, [LineInput("PET-CLEAN", "10")], operator_id=op.id, idempotency_key="sweep-deposit-1"))
    run_in_transaction(lambda: record_deposit(
        unit, net.members_a[1], [LineInput("CARDBOARD", "5")], operator_id=op.id, idempotency_key="sweep-deposit-2"))
    paid = run_in_transaction(lambda: record_withdrawal(unit, member, WithdrawalInput("cash", "1000"),
                                                        user=op, idempotency_key="sweep-withdrawal-1"))
    buyer = run_in_transaction(lambda: create_offtaker(unit, "Pengepul Jaya", user=mgr))
    run_in_transaction(lambda: record_sale(unit, db.session.get(Offtaker, buyer.id),
                                           [SaleLineInput("CARDBOARD", "1", None, "2600")], "cash", user=mgr,
                                           idempotency_key="sweep-sale-1"))
    from wastebank.auth.tokens import create_token

    create_token(db.session.get(type(mgr), mgr.id), "sweep")
    from wastebank.services.containers import add_container

    sack = run_in_transaction(lambda: add_container(unit.id, "Karung", "200", user_id=mgr.id))
    db.session.commit()
    return {"deposit": deposit.body["receipt_no"], "withdrawal": paid.body["id"], "container": sack.id}


# Complexity over 10, kept: one branch per URL converter and parameter kind.
def _path_values(rule, net, seed) -> dict | None:  # noqa: C901
    """Values for the rule's path arguments, read fresh (cards are reissued along the way)."""
    from wastebank.counter.views import verification_code

    member = net.members_a[0]
    deposit = db.session.scalar(select(Deposit).where(Deposit.receipt_no == seed["deposit"]))
    withdrawal = db.session.get(Withdrawal, seed["withdrawal"])
    card = db.session.scalar(select(MemberCard).where(MemberCard.member_id == member.id,
                                                      MemberCard.revoked_at.is_(None)))
    sale = db.session.scalar(select(Sale).order_by(Sale.id))
    values = {}
    for arg in rule.arguments:
        if arg == "member_no":
            values[arg] = member.member_no
        elif arg == "receipt_no":
            values[arg] = withdrawal.receipt_no if "/w/" in rule.rule else deposit.receipt_no
        elif arg == "withdrawal_id":
            values[arg] = withdrawal.id
        elif arg == "sale_no":
            values[arg] = sale.sale_no
        elif arg == "token":
            if card is None:
                return None
            values[arg] = card.token
        elif arg == "month":
            values[arg] = "2025-01"
        elif arg == "code" and rule.rule.startswith("/lang/"):
            values[arg] = "id"
        elif arg == "code" and "aggregator" in rule.rule:
            values[arg] = "JKT"
        elif arg == "code":
            values[arg] = verification_code(values.get("receipt_no") or deposit.receipt_no)
        elif arg == "token_id":
            values[arg] = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
        elif arg == "filename":
            values[arg] = "app.css"
        elif arg == "unit_code":
            values[arg] = "RW05"
        elif arg == "container_id":
            values[arg] = seed["container"]
        else:
            raise AssertionError(f"the sweep needs a value for <{arg}> in {rule.rule}")
    db.session.rollback()
    return values


# --- the sweep -------------------------------------------------------------------------------


def _client(app, username: str | None):
    app.test_client_class = RequestIsolatingClient
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.csrf = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    if username:
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": client.csrf})
        assert response.status_code == 302, username
    return client


def _refused_login(response) -> bool:
    return response.status_code in (401, 403) or (
        response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""))


def _reactivate(net) -> None:
    """Keep the sweep's member usable (the deactivate route is swept too)."""
    for member in net.members_a[:2]:
        db.session.execute(text("UPDATE member SET active = :yes WHERE id = :id"), {"yes": True, "id": member.id})
    db.session.commit()


def _shape(name: str, codes: set[str]) -> str:
    """A field's name with its row index or category code taken out (``lines-3-quantity`` →
    ``lines-#-quantity``, ``buy-PET-CLEAN`` → ``buy-*``): the rows of one form that the same
    code reads alike, swept once."""
    prefix, _sep, rest = name.partition("-")
    if rest.upper() in codes:
        return f"{prefix}-*"
    return re.sub(r"\d+", "#", name)


# Complexity over 10, kept: walks every route and form; the branches are the kinds it meets.
def discover(app, net, seed, clients) -> dict[tuple[str, str], dict]:  # noqa: C901
    """``{(method, url): {"role", "fields": {name: [page value]}, "endpoint"}}`` for every
    route of the URL map (steps 1–3 of the module docstring)."""
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint != "static" and not r.rule.startswith("/api/") and r.endpoint != "api.openapi_json"]
    assert len(rules) > 40, "the URL map looks too small to be the whole app"

    # 1-3: for each route and method, the role, the page's forms and the keys the view reads.
    targets: dict[tuple[str, str], dict] = {}  # (method, rule) → {"role", "fields": {name: [base]}}
    page_forms_by_action: list[tuple[str, dict, str | None]] = []
    for rule in sorted(rules, key=lambda r: r.rule):
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            _reactivate(net)
            values = _path_values(rule, net, seed)
            if values is None:
                continue
            url = app.url_map.bind("bank.example").build(rule.endpoint, values)
            roles = (None,) if rule.endpoint in SESSION_ENDING else ROLE_ORDER
            chosen = None
            for role in roles:
                client = clients[role]
                data = {"csrf_token": client.csrf} if method == "POST" else None
                response = client.open(url, method=method, data=data)
                assert response.status_code < 500, (method, url, role, response.status_code)
                if _refused_login(response):
                    continue
                if chosen is None:
                    chosen = (role, response)
                if method == "POST" or response.status_code == 200:
                    # a page: the first role it is shown to (/login: anonymous; /: an admin)
                    chosen = (role, response)
                    break
            role, response = chosen or (None, response)
            read = READ["args"] | (READ["form"] if method == "POST" else set())
            fields = {name: [] for name in read}
            if method == "GET" and response.mimetype == "text/html":
                for form in page_forms(response.get_data(as_text=True)):
                    page_forms_by_action.append((form["action"] or url, form, role))
            targets[(method, url)] = {"role": role, "fields": fields, "endpoint": rule.endpoint}
    for action, form, role in page_forms_by_action:
        path = urlsplit(action).path or action
        key = (form["method"].upper(), path)
        target = targets.setdefault(key, {"role": role, "fields": {}, "endpoint": path})
        if form["fields"].keys() - target["fields"].keys():
            target["role"] = role  # whoever is shown the form submits it (the login form: anonymous)
        for name, base in form["fields"].items():
            if name not in target["fields"] or (base and not target["fields"][name]):
                target["fields"][name] = list(base)

    codes = {code.upper() for code in net.categories}
    for target in targets.values():
        seen: set[str] = set()
        target["sweep"] = []
        for name in sorted(target["fields"]):
            if _shape(name, codes) not in seen:
                seen.add(_shape(name, codes))
                target["sweep"].append(name)
    return targets


# Complexity over 10, kept: the sweep's loop over routes, fields and hostile values.
def test_every_field_of_every_route_survives_hostile_input(app, net):  # noqa: C901
    started = time.monotonic()
    seed = _seed(net)
    _install_recorder(app)
    clients = {name: _client(app, name) for name in ROLE_ORDER}
    targets = discover(app, net, seed, clients)

    swept_fields = sum(len(t["sweep"]) for t in targets.values())
    assert swept_fields > 60, f"only {swept_fields} fields discovered"
    for must in (("GET", "/counter", "q"), ("GET", "/members/", "q"), ("GET", "/manager/audit", "page"),
                 ("POST", "/members/new", "name"), ("GET", "/members/cards", "member_id"),
                 ("POST", "/manager/sales/new", "offtaker"), ("GET", "/reports/unit", "day"),
                 ("POST", "/manager/offtakers", "name"), ("POST", "/manager/stock/adjust", "category")):
        method, path, name = must
        assert name in targets.get((method, path), {}).get("fields", {}), f"{must} was not discovered"

    # 4: every payload into every field.
    failures: list[str] = []
    requests = 0
    writes = WriteLog(db.engine)
    slow: list[tuple[float, str]] = []
    per_label: dict[str, float] = dict.fromkeys(PAYLOADS, 0.0)
    for (method, url), target in sorted(targets.items()):
        client = clients[target["role"]]
        for name in target["sweep"]:
            _reactivate(net)
            writes.take()
            began = time.monotonic()
            for label, payload in PAYLOADS.items():
                if name == "csrf_token" and label not in CSRF_PAYLOADS:
                    continue
                sent = time.monotonic()
                base = {k: (v[0] if v else "") for k, v in target["fields"].items() if k != name}
                if method == "POST":
                    base.setdefault("csrf_token", client.csrf)
                    response = client.open(url, method="POST", data={**base, name: payload})
                else:
                    response = client.open(url, method="GET", query_string={**base, name: payload})
                requests += 1
                per_label[label] += time.monotonic() - sent
                where = f"{method} {url} {name}={label} as {target['role'] or 'anonymous'}"
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                    continue
                wrote = writes.take()
                if (wrote and response.status_code == 200 and url.startswith(AUDITED_DOWNLOADS)
                        and {table for table, _c in wrote} == {"audit_log"}):
                    wrote = set()
                if wrote and (response.status_code >= 400 or label in NEVER_STORED):
                    failures.append(f"{where}: {response.status_code} but wrote "
                                    + ", ".join(sorted({f"{t}({c[:40]})" if c else t for t, c in wrote})))
                elif any(table == "posting" for table, _c in wrote):
                    report = verify_ledger()
                    db.session.rollback()
                    if not report.ok:
                        failures.append(f"{where}: accepted and the ledger no longer verifies: {report.faults[:3]}")
            slow.append((time.monotonic() - began, f"{method} {url} {name}"))
    elapsed = time.monotonic() - started
    print(f"input sweep: {len(targets)} routes×methods, {swept_fields} fields, {requests} requests, {elapsed:.1f} s")
    print("  per payload: " + ", ".join(f"{k} {v:.1f} s" for k, v in per_label.items()))
    for seconds, what in sorted(slow, reverse=True)[:8]:
        print(f"  {seconds:5.2f} s  {what}")
    assert not failures, "\n".join(failures[:60])
