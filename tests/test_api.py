"""JSON API v1 (docs/rules.md §api): deposits, members, prices, errors, auth, CSRF and the OpenAPI document.

Field cases C01–C03 and C06 at the API level; every bad input must answer 4xx in the error
shape and write nothing.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from wastebank.api.schemas import DepositSchema, MemberSchema, PriceListSchema
from wastebank.auth.tokens import end_all_sessions
from wastebank.extensions import db
from wastebank.models import (
    Deposit,
    DepositLine,
    IdempotencyRecord,
    JournalEntry,
    Posting,
    ReceiptCounter,
)
from wastebank.services.ledger import member_savings_account
from wastebank.services.members import issue_card, live_card

from .conftest import bearer, csrf_token

URL = "/api/v1/deposits"


# --- helpers ---------------------------------------------------------------------------------




def new_key() -> str:
    return str(uuid.uuid4())


def post(client, token, body, key=None, *, raw: str | bytes | None = None, headers=None,
         content_type="application/json"):
    """POST a deposit with a bearer token (``token=None``: no Authorization header)."""
    hdrs = {} if token is None else bearer(token)
    if key is not None:
        hdrs["Idempotency-Key"] = key
    hdrs.update(headers or {})
    data = raw if raw is not None else json.dumps(body)
    return client.post(URL, data=data, headers=hdrs, content_type=content_type)


def deposit_body(member_no, *lines, **extra):
    return {"member": member_no, "lines": [{"category": c, "quantity": q} for c, q in lines], **extra}


def row_counts() -> dict:
    """How many rows every money-moving table holds, and the receipt counters."""
    counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Deposit, DepositLine, JournalEntry, Posting, IdempotencyRecord)}
    counts["receipt_no"] = db.session.scalar(select(func.coalesce(func.sum(ReceiptCounter.last_no), 0)))
    db.session.rollback()  # end the read transaction (SQLite takes the write lock on BEGIN)
    return counts


def balance(member) -> int:
    db.session.expire_all()
    value = member_savings_account(member).balance
    db.session.rollback()
    return value


def assert_error(response, status, code=None, field="__any__"):
    """The docs/rules.md §api error shape with ``status`` (and ``code``/``field`` when given)."""
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.is_json, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert set(error) <= {"code", "message", "field", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["field"] is None or isinstance(error["field"], str)
    if code is not None:
        assert error["code"] == code, error
    if field != "__any__":
        assert error["field"] == field, error
    return error


# --- C01–C03: quantities and amounts --------------------------------------------------------


def test_c01_one_and_a_half_kg_pet_at_3250(client, net, tokens):
    member = net.members_a[0]
    response = post(client, tokens["op_a"], deposit_body(member.member_no, ("PET-CLEAN", "1,5")), new_key())
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    year = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=7))).year
    assert body["receipt_no"] == f"RW05-{year}-000001"
    assert body["member_no"] == member.member_no
    assert body["lines"] == [{"category": "PET-CLEAN", "quantity_milli": 1500, "unit": "kg",
                              "gross_milli": 1500, "tare_milli": 0, "container": None,  # no container (docs/tare.md)
                              "unit_price_idr": 3250, "amount_idr": 4875}]
    assert (body["total_idr"], body["fee_idr"], body["credited_idr"], body["balance_idr"]) == (4875, 0, 4875, 4875)
    assert "Idempotent-Replayed" not in response.headers
    # The body is what the schema documents, key for key.
    assert set(body) == set(DepositSchema().fields)
    assert set(body["lines"][0]) == set(DepositSchema().fields["lines"].inner.schema.fields)
    assert balance(member) == 4875
    shown = client.get(f"/api/v1/members/{member.member_no}", headers=bearer(tokens["op_a"]))
    assert shown.get_json()["balance_idr"] == 4875


def test_c02_two_comma_zero_zero_zero_is_two_kilograms(client, net, tokens):
    member = net.members_a[1]
    response = post(client, tokens["op_a"], deposit_body(member.member_no, ("PET-CLEAN", "2,000")), new_key())
    assert response.status_code == 201, response.get_data(as_text=True)
    line = response.get_json()["lines"][0]
    assert (line["quantity_milli"], line["amount_idr"]) == (2000, 6500)
    assert response.get_json()["balance_idr"] == 6500


def test_c03_grams_and_decimal_kilograms_of_cardboard(client, net, tokens):
    member = net.members_a[0]
    response = post(client, tokens["op_a"],
                    deposit_body(member.member_no, ("CARDBOARD", "750 g"), ("cardboard", "0,75")), new_key())
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert [(l["category"], l["quantity_milli"], l["unit_price_idr"], l["amount_idr"]) for l in body["lines"]] \
        == [("CARDBOARD", 750, 2000, 1500), ("CARDBOARD", 750, 2000, 1500)]
    assert body["total_idr"] == 3000 and body["balance_idr"] == 3000


@pytest.mark.parametrize("number, milli, amount", [
    ("1.5", 1500, 4875),
    ("1.50", 1500, 4875),
    ("2", 2000, 6500),
    ("15e-1", 1500, 4875),
    ("2.675", 2675, 8694),  # 2.675 is 2.67499… as a float; the text is exact
    ("0.001", 1, 3),
])
def test_json_number_quantity_is_read_from_its_text(client, net, tokens, number, milli, amount):
    member = net.members_a[0]
    raw = '{"member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": %s}]}' % (member.member_no, number)
    response = post(client, tokens["op_a"], None, new_key(), raw=raw)
    assert response.status_code == 201, response.get_data(as_text=True)
    line = response.get_json()["lines"][0]
    assert (line["quantity_milli"], line["amount_idr"]) == (milli, amount)


def test_card_token_and_scanned_card_url_name_the_member(client, net, tokens):
    member = net.members_a[2]
    token = live_card(member).token
    db.session.rollback()
    first = post(client, tokens["op_a"], deposit_body(token, ("PET-CLEAN", "1")), new_key())
    second = post(client, tokens["op_a"], deposit_body(f"https://bank.example/c/{token}", ("PET-CLEAN", "1")),
                  new_key())
    assert first.status_code == second.status_code == 201
    assert first.get_json()["member_no"] == second.get_json()["member_no"] == member.member_no
    assert second.get_json()["balance_idr"] == 6500


def test_recorded_at_of_an_offline_capture_is_kept(client, net, tokens):
    member = net.members_a[0]
    captured = (datetime.now(timezone.utc) - timedelta(days=2)).replace(microsecond=0)
    local = captured.astimezone(timezone(timedelta(hours=7))).isoformat()
    response = post(client, tokens["op_a"],
                    deposit_body(member.member_no, ("PET-CLEAN", "1,5"), recorded_at=local), new_key())
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert datetime.fromisoformat(body["recorded_at"]) == captured
    assert datetime.fromisoformat(body["posted_at"]) > captured + timedelta(days=1)


# --- C06 / C05: idempotency -----------------------------------------------------------------


def test_c06_replay_returns_the_first_receipt_and_moves_nothing(client, net, tokens):
    member = net.members_a[0]
    key = new_key()
    body = deposit_body(member.member_no, ("PET-CLEAN", "1,5"))
    first = post(client, tokens["op_a"], body, key)
    assert first.status_code == 201
    after_first = row_counts()
    # The tablet's offline queue replays after the commit: same key, same request.
    again = post(client, tokens["op_a"], body, key)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # "1.5" is the same request as "1,5" (the canonical request is in thousandths).
    same = post(client, tokens["op_a"], deposit_body(member.member_no, ("pet-clean", "1.5")), key)
    assert same.status_code == 201 and same.get_json()["receipt_no"] == first.get_json()["receipt_no"]
    assert row_counts() == after_first
    assert balance(member) == 4875
    # The same key with another quantity is refused, and nothing new is written.
    other = post(client, tokens["op_a"], deposit_body(member.member_no, ("PET-CLEAN", "2")), key)
    assert_error(other, 409, "idempotency_key_reused", "Idempotency-Key")
    other_member = post(client, tokens["op_a"], deposit_body(net.members_a[1].member_no, ("PET-CLEAN", "1,5")), key)
    assert_error(other_member, 409, "idempotency_key_reused")
    assert row_counts() == after_first
    assert balance(member) == 4875


def test_c05_double_submit_records_once(client, net, tokens):
    """Two identical submits in a row (a double tap): one deposit, two identical answers.
    (Concurrent submits against a live server are covered by the concurrency suite.)"""
    member = net.members_a[1]
    key = new_key()
    body = deposit_body(member.member_no, ("PET-CLEAN", "1,5"), ("CARDBOARD", "2"))
    answers = [post(client, tokens["op_a"], body, key) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].get_json() == answers[1].get_json()
    counts = row_counts()
    assert (counts["deposit"], counts["journal_entry"], counts["idempotency_record"], counts["receipt_no"]) \
        == (1, 1, 1, 1)
    assert balance(member) == 4875 + 4000


def test_replay_still_answers_after_the_member_was_deactivated_or_the_card_revoked(client, net, tokens):
    member = net.members_a[0]
    card_token = live_card(member).token
    db.session.rollback()
    key = new_key()
    body = deposit_body(card_token, ("PET-CLEAN", "1,5"))
    first = post(client, tokens["op_a"], body, key)
    assert first.status_code == 201
    issue_card(member)  # revokes the old card
    db.session.commit()
    replay = post(client, tokens["op_a"], body, key)
    assert replay.status_code == 201 and replay.get_json() == first.get_json()
    assert_error(post(client, tokens["op_a"], body, new_key()), 404, "card_revoked", "member")
    member.active = False
    db.session.commit()
    by_number = deposit_body(member.member_no, ("PET-CLEAN", "1,5"))
    assert_error(post(client, tokens["op_a"], by_number, new_key()), 422, "member_inactive", "member")
    # A key used for this member: the request named by number is the same request.
    assert post(client, tokens["op_a"], by_number, key).get_json() == first.get_json()
    assert balance(member) == 4875


# --- bad input: 4xx in the error shape, nothing written --------------------------------------


def _huge_int_body(member_no):
    return '{"member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": %s}]}' % (member_no, "9" * 5000)


BAD_BODIES = [
    # (id, raw body or callable(member_no) → raw, status, code, field)
    ("malformed", '{"member": ', 400, "invalid_json", None),
    ("empty", "", 400, "invalid_json", None),
    ("not_utf8", b'{"member": "\xff\xfe"}', 400, "invalid_json", None),
    ("nan", lambda m: '{"member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": NaN}]}' % m,
     400, "invalid_json", None),
    ("deep", "[" * 100_000 + "]" * 100_000, 400, "invalid_json", None),
    ("array", "[]", 422, "invalid_type", None),
    ("array_of_body", lambda m: json.dumps([deposit_body(m, ("PET-CLEAN", "1"))]), 422, "invalid_type", None),
    ("string", '"RW05-0001"', 422, "invalid_type", None),
    ("null", "null", 422, "invalid_type", None),
    ("missing_member", json.dumps({"lines": [{"category": "PET-CLEAN", "quantity": "1"}]}), 422, "required",
     "member"),
    ("missing_lines", lambda m: json.dumps({"member": m}), 422, "required", "lines"),
    ("member_number", json.dumps({"member": 1, "lines": [{"category": "PET-CLEAN", "quantity": "1"}]}),
     422, "not_a_string", "member"),
    ("member_null", json.dumps({"member": None, "lines": [{"category": "PET-CLEAN", "quantity": "1"}]}),
     422, "null", "member"),
    ("member_nul", lambda m: json.dumps(deposit_body(m + "\u0000", ("PET-CLEAN", "1"))), 422,
     "bad_characters", "member"),
    ("member_overlong", lambda m: json.dumps(deposit_body(m * 1000, ("PET-CLEAN", "1"))), 422, "too_long",
     "member"),
    ("lines_string", lambda m: json.dumps({"member": m, "lines": "PET-CLEAN 1,5"}), 422, "not_a_list", "lines"),
    ("lines_empty", lambda m: json.dumps({"member": m, "lines": []}), 422, "required", "lines"),
    ("line_not_object", lambda m: json.dumps({"member": m, "lines": ["PET-CLEAN"]}), 422, "invalid_type",
     "lines.0"),
    ("line_missing_quantity", lambda m: json.dumps({"member": m, "lines": [{"category": "PET-CLEAN"}]}),
     422, "required", "lines.0.quantity"),
    ("unknown_field", lambda m: json.dumps({**deposit_body(m, ("PET-CLEAN", "1")), "amount_idr": 1_000_000}),
     422, "unknown_field", "amount_idr"),
    ("quantity_object", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", {"kg": 1}))), 422, "not_a_number",
     "lines.0.quantity"),
    ("quantity_list", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", [1, 5]))), 422, "not_a_number",
     "lines.0.quantity"),
    ("quantity_true", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", True))), 422, "not_a_number",
     "lines.0.quantity"),
    ("quantity_null", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", None))), 422, "not_a_number",
     "lines.0.quantity"),
    ("quantity_1e400", lambda m: '{"member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": 1e400}]}' % m,
     422, "out_of_range", "lines.0.quantity"),
    ("quantity_10e40", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", 10 ** 40))), 422, "out_of_range",
     "lines.0.quantity"),
    ("quantity_5000_digits", _huge_int_body, 422, "out_of_range", "lines.0.quantity"),
    ("quantity_long_text", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "9" * 5000))), 422, "too_long",
     "lines.0.quantity"),
    ("quantity_thousands", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1.500,5"))), 422,
     "thousands_separator", "lines.0.quantity"),
    ("quantity_zero", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "0"))), 422, "not_positive",
     "lines.0.quantity"),
    ("quantity_negative", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", -1.5))), 422, "not_positive",
     "lines.0.quantity"),
    ("quantity_words", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "kg"))), 422,
     "not_a_number", "lines.0.quantity"),
    ("quantity_precise", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1,2345"))), 422, "too_precise",
     "lines.0.quantity"),
    ("quantity_absurd", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "600"))), 422, "over_limit",
     "lines.0.quantity"),
    ("quantity_junk", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1,5\u202e\u200b"))), 422,
     "bad_characters", "lines.0.quantity"),
    ("second_line_bad", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1"), ("CARDBOARD", "x"))), 422,
     "not_a_number", "lines.1.quantity"),
    ("category_unknown", lambda m: json.dumps(deposit_body(m, ("GOLD", "1"))), 422, "unknown_category",
     "lines.0.category"),
    ("category_surrogate", lambda m: '{"member": "%s", "lines": [{"category": "\\ud800", "quantity": "1"}]}' % m,
     422, "bad_characters", "lines.0.category"),
    ("category_emoji", lambda m: json.dumps(deposit_body(m, ("♻️😀", "1"))), 422, "unknown_category",
     "lines.0.category"),
    ("ten_thousand_lines", lambda m: json.dumps(deposit_body(m, *[("PET-CLEAN", "1")] * 10_000)), 422,
     "too_many", "lines"),
    ("forty_one_lines", lambda m: json.dumps(deposit_body(m, *[("PET-CLEAN", "0,1")] * 41)), 422, "too_many",
     "lines"),
    ("recorded_at_naive", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1"),
                                                            recorded_at="2026-01-05T09:30:00")),
     422, "naive_time", "recorded_at"),
    ("recorded_at_garbage", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1"), recorded_at="kemarin")),
     422, "invalid_datetime", "recorded_at"),
    ("recorded_at_number", lambda m: json.dumps(deposit_body(m, ("PET-CLEAN", "1"), recorded_at=1767225600)),
     422, "invalid_datetime", "recorded_at"),
    ("recorded_at_future", lambda m: json.dumps(deposit_body(
        m, ("PET-CLEAN", "1"), recorded_at=(datetime.now(timezone.utc) + timedelta(days=1)).isoformat())),
     422, "in_future", "recorded_at"),
    ("recorded_at_ancient", lambda m: json.dumps(deposit_body(
        m, ("PET-CLEAN", "1"), recorded_at="2001-01-01T00:00:00+07:00")), 422, "too_old", "recorded_at"),
    ("member_unknown", lambda m: json.dumps(deposit_body("RW05-9999", ("PET-CLEAN", "1"))), 404,
     "member_not_found", "member"),
    ("member_unicode", lambda m: json.dumps(deposit_body("Ñoño Đặng Łukasz 😀", ("PET-CLEAN", "1"))), 404,
     "member_not_found", "member"),
    ("member_blank", lambda m: json.dumps(deposit_body("   ", ("PET-CLEAN", "1"))), 404, None, "member"),
]


@pytest.mark.parametrize("raw, status, code, field", [case[1:] for case in BAD_BODIES],
                         ids=[case[0] for case in BAD_BODIES])
def test_bad_body_is_refused_and_writes_nothing(client, net, tokens, raw, status, code, field):
    member_no = net.members_a[0].member_no
    before = row_counts()
    raw = raw(member_no) if callable(raw) else raw
    response = post(client, tokens["op_a"], None, new_key(), raw=raw)
    error = assert_error(response, status, code, field)
    if status == 422 and code not in ("member_inactive",):
        assert error.get("details"), error
    assert row_counts() == before
    assert balance(net.members_a[0]) == 0


def test_every_bad_line_is_listed_in_details(client, net, tokens):
    member_no = net.members_a[0].member_no
    body = deposit_body(member_no, ("PET-CLEAN", "1"), ("GOLD", "1"), ("CARDBOARD", "1.500,5"))
    error = assert_error(post(client, tokens["op_a"], body, new_key()), 422, "unknown_category", "lines.1.category")
    assert [(d["field"], d["code"]) for d in error["details"]] == [
        ("lines.1.category", "unknown_category"), ("lines.2.quantity", "thousands_separator")]


@pytest.mark.parametrize("headers, content_type, status, code", [
    ({}, "application/x-www-form-urlencoded", 400, "json_required"),
    ({}, "text/plain", 400, "json_required"),
])
def test_body_that_is_not_json_is_refused(client, net, tokens, headers, content_type, status, code):
    before = row_counts()
    body = json.dumps(deposit_body(net.members_a[0].member_no, ("PET-CLEAN", "1")))
    response = post(client, tokens["op_a"], None, new_key(), raw=body, headers=headers, content_type=content_type)
    assert_error(response, status, code)
    assert row_counts() == before


@pytest.mark.parametrize("key", [None, "", "short", "k" * 101, "kunci-\xe9\xe9\xe9\xe9\xe9", "kunci rahasia\x7f"],
                         ids=["missing", "empty", "short", "overlong", "latin1", "control"])
def test_idempotency_key_is_required(client, net, tokens, key):
    before = row_counts()
    body = deposit_body(net.members_a[0].member_no, ("PET-CLEAN", "1,5"))
    response = post(client, tokens["op_a"], body, key)
    assert_error(response, 422, "idempotency_key_required", "Idempotency-Key")
    assert row_counts() == before


def test_member_of_another_unit_cannot_be_credited(client, net, tokens):
    before = row_counts()
    member_a = net.members_a[0]
    card = live_card(member_a).token
    db.session.rollback()
    for ref in (member_a.member_no, card, f"https://bank.example/c/{card}"):
        response = post(client, tokens["op_b"], deposit_body(ref, ("PET-CLEAN", "1,5")), new_key())
        assert_error(response, 404, "member_not_found", "member")
    assert row_counts() == before
    assert balance(member_a) == 0


# --- auth, roles, CSRF -----------------------------------------------------------------------


def test_anonymous_and_bad_tokens_get_401_json(client, net, tokens):
    member_no = net.members_a[0].member_no
    before = row_counts()
    for headers in ({}, bearer("wb_not-a-token"), bearer(""), {"Authorization": "Bearer"}):
        response = client.post(URL, json=deposit_body(member_no, ("PET-CLEAN", "1")),
                               headers={**headers, "Idempotency-Key": new_key()})
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert_error(client.get(f"/api/v1/members/{member_no}", headers=headers), 401, "unauthorized")
        assert_error(client.get("/api/v1/prices", headers=headers), 401, "unauthorized")
    assert row_counts() == before


def test_a_deactivated_users_token_stops_at_once(client, net, tokens):
    member_no = net.members_a[0].member_no
    token = tokens["op_a"]
    assert client.get(f"/api/v1/members/{member_no}", headers=bearer(token)).status_code == 200
    net.users["op_a"].active = False
    db.session.commit()
    assert_error(client.get(f"/api/v1/members/{member_no}", headers=bearer(token)), 401, "unauthorized")
    response = post(client, token, deposit_body(member_no, ("PET-CLEAN", "1")), new_key())
    assert_error(response, 401, "unauthorized")
    assert row_counts()["deposit"] == 0


def test_ending_all_sessions_revokes_tokens(client, net, tokens):
    end_all_sessions(net.users["mgr_a"])
    db.session.commit()
    assert_error(client.get("/api/v1/prices", headers=bearer(tokens["mgr_a"])), 401, "unauthorized")


@pytest.mark.parametrize("username, deposit, member, prices", [
    ("op_a", 201, 200, 200),
    ("mgr_a", 201, 200, 200),
    ("admin", 403, 200, 422),       # no unit: prices need ?unit=
    ("agg", 403, 200, 422),
    ("collab", 403, 403, 403),
])
def test_roles(client, net, tokens, username, deposit, member, prices):
    member_no = net.members_a[0].member_no
    response = post(client, tokens[username], deposit_body(member_no, ("PET-CLEAN", "1")), new_key())
    assert response.status_code == deposit, response.get_data(as_text=True)
    assert client.get(f"/api/v1/members/{member_no}", headers=bearer(tokens[username])).status_code == member
    assert client.get("/api/v1/prices", headers=bearer(tokens[username])).status_code == prices
    if deposit == 403:
        assert_error(response, 403, "forbidden")
        assert row_counts()["deposit"] == 0


def test_session_cookie_post_needs_the_csrf_header(client, net, login):
    member = net.members_a[0]
    token = csrf_token(client.get("/login").get_data(as_text=True))
    login("op_a")
    body = deposit_body(member.member_no, ("PET-CLEAN", "1,5"))
    before = row_counts()
    response = client.post(URL, json=body, headers={"Idempotency-Key": new_key()})
    assert_error(response, 400, "csrf_failed")
    response = client.post(URL, json=body, headers={"Idempotency-Key": new_key(), "X-CSRFToken": "forged"})
    assert_error(response, 400, "csrf_failed")
    assert row_counts() == before
    response = client.post(URL, json=body, headers={"Idempotency-Key": new_key(), "X-CSRFToken": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["balance_idr"] == 4875
    # Reads need no CSRF token.
    assert client.get(f"/api/v1/members/{member.member_no}").get_json()["balance_idr"] == 4875


def test_bearer_header_decides_even_with_a_session_cookie(client, net, tokens, login):
    login("op_a")
    member_no = net.members_a[0].member_no
    body = deposit_body(member_no, ("PET-CLEAN", "1,5"))
    # A bad bearer token is refused although the cookie is valid.
    assert_error(client.get(f"/api/v1/members/{member_no}", headers=bearer("wb_nope")), 401, "unauthorized")
    # The token's user (RW07) acts, not the cookie's (RW05); no CSRF token needed with a bearer.
    assert_error(client.get(f"/api/v1/members/{member_no}", headers=bearer(tokens["op_b"])), 404,
                 "member_not_found")
    response = client.post(URL, json=body, headers={**bearer(tokens["op_b"]), "Idempotency-Key": new_key()})
    assert_error(response, 404, "member_not_found")
    response = client.post(URL, json=body, headers={**bearer(tokens["op_a"]), "Idempotency-Key": new_key()})
    assert response.status_code == 201


# --- members ---------------------------------------------------------------------------------


def test_member_view(client, net, tokens):
    member = net.members_a[2]
    post(client, tokens["op_a"], deposit_body(member.member_no, ("PET-CLEAN", "2")), new_key())
    response = client.get(f"/api/v1/members/{member.member_no.lower()}", headers=bearer(tokens["op_a"]))
    assert response.status_code == 200
    assert response.get_json() == {"member_no": member.member_no, "name": "Ñoño Đặng Łukasz", "unit": "RW05",
                                   "balance_idr": 6500, "active": True}
    assert set(response.get_json()) == set(MemberSchema().fields)
    member.active = False
    db.session.commit()
    assert client.get(f"/api/v1/members/{member.member_no}",
                      headers=bearer(tokens["op_a"])).get_json()["active"] is False


def test_member_scope(client, net, tokens):
    member_a, member_b = net.members_a[0], net.members_b[0]
    assert_error(client.get(f"/api/v1/members/{member_a.member_no}", headers=bearer(tokens["op_b"])), 404,
                 "member_not_found", "member_no")
    assert client.get(f"/api/v1/members/{member_b.member_no}", headers=bearer(tokens["op_b"])).status_code == 200
    assert_error(client.get(f"/api/v1/members/{member_b.member_no}", headers=bearer(tokens["op_a"])), 404,
                 "member_not_found")
    for who in ("admin", "agg"):
        shown = client.get(f"/api/v1/members/{member_b.member_no}", headers=bearer(tokens[who]))
        assert shown.get_json()["unit"] == "RW07"
    for junk in ("RW05-9999", "%00", "%ED%A0%80", "x" * 500, "%F0%9F%98%80"):
        assert_error(client.get(f"/api/v1/members/{junk}", headers=bearer(tokens["op_a"])), 404,
                     "member_not_found")


# --- prices ----------------------------------------------------------------------------------


def test_price_list_of_the_callers_unit(client, net, tokens):
    response = client.get("/api/v1/prices", headers=bearer(tokens["op_a"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["unit"] == "RW05"
    assert set(body) == set(PriceListSchema().fields)
    pet = next(p for p in body["prices"] if p["category"] == "PET-CLEAN")
    assert pet == {"category": "PET-CLEAN", "name_id": net.categories["PET-CLEAN"].name_id,
                   "name_en": net.categories["PET-CLEAN"].name_en, "unit": "kg", "buy_price_idr": 3250,
                   "sell_price_idr": 4500, "effective_from": "2024-01-01", "max_line_milli": 500_000}
    cardboard = next(p for p in body["prices"] if p["category"] == "CARDBOARD")
    assert cardboard["buy_price_idr"] == 2000
    assert {p["category"] for p in body["prices"]} == set(net.categories)
    other = client.get("/api/v1/prices", headers=bearer(tokens["op_b"])).get_json()
    assert other["unit"] == "RW07"
    assert next(p for p in other["prices"] if p["category"] == "PET-CLEAN")["buy_price_idr"] != 3250


def test_price_list_unit_parameter_is_scoped(client, net, tokens):
    assert_error(client.get("/api/v1/prices", headers=bearer(tokens["admin"])), 422, "unit_required", "unit")
    assert client.get("/api/v1/prices?unit=rw07", headers=bearer(tokens["admin"])).get_json()["unit"] == "RW07"
    assert client.get("/api/v1/prices?unit=RW05", headers=bearer(tokens["agg"])).get_json()["unit"] == "RW05"
    assert client.get("/api/v1/prices?unit=RW05", headers=bearer(tokens["op_a"])).get_json()["unit"] == "RW05"
    assert_error(client.get("/api/v1/prices?unit=RW07", headers=bearer(tokens["op_a"])), 404, "unit_not_found")
    assert_error(client.get("/api/v1/prices?unit=NOPE", headers=bearer(tokens["admin"])), 404, "unit_not_found")
    assert_error(client.get("/api/v1/prices?unit=%00", headers=bearer(tokens["admin"])), 422, "bad_characters",
                 "unit")


# --- other errors ----------------------------------------------------------------------------


def test_unknown_paths_and_methods_answer_json(client, net, tokens):
    assert_error(client.get("/api/v1/nothing-here", headers=bearer(tokens["op_a"])), 404, "not_found")
    assert_error(client.delete(URL, headers=bearer(tokens["op_a"])), 405, "method_not_allowed")
    assert_error(client.post(URL, data=b"x" * (17 * 1024 * 1024), content_type="application/json",
                             headers={**bearer(tokens["op_a"]), "Idempotency-Key": new_key()}), 413, "too_large")


# --- OpenAPI ---------------------------------------------------------------------------------


def _resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_document(client, net):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"] == "v1"
    for ref in _refs(doc):  # every reference resolves
        _resolve(doc, ref)
    schemas = doc["components"]["schemas"]

    post_op = doc["paths"]["/api/v1/deposits"]["post"]
    body = _resolve(doc, post_op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert post_op["requestBody"]["required"] is True
    assert set(body["properties"]) == {"member", "lines", "recorded_at", "expected_credited_idr"}
    assert set(body["required"]) == {"member", "lines"}
    line = _resolve(doc, body["properties"]["lines"]["items"]["$ref"])
    assert {"type": "string"} in line["properties"]["quantity"]["oneOf"]
    assert {"type": "number"} in line["properties"]["quantity"]["oneOf"]
    header = next(p for p in post_op["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["required"] is True
    created = post_op["responses"]["201"]
    receipt = _resolve(doc, created["content"]["application/json"]["schema"]["$ref"])
    assert set(receipt["properties"]) == set(DepositSchema().fields)
    assert "Idempotent-Replayed" in created["headers"]
    for status in ("400", "401", "403", "404", "409", "422"):
        assert post_op["responses"][status]["content"]["application/json"]["schema"] == \
            {"$ref": "#/components/schemas/Error"}
    assert {"bearerAuth": []} in post_op["security"]

    error = schemas["Error"]
    assert error["required"] == ["error"]
    error_body = _resolve(doc, error["properties"]["error"]["$ref"])
    assert {"code", "message", "field"} <= set(error_body["properties"])
    assert _resolve(doc, doc["paths"]["/api/v1/deposits"]["post"]["responses"]["default"]["$ref"]) \
        ["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    member_op = doc["paths"]["/api/v1/members/{member_no}"]["get"]
    assert _resolve(doc, member_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]) \
        ["properties"].keys() == {"member_no", "name", "unit", "balance_idr", "active"}
    prices_op = doc["paths"]["/api/v1/prices"]["get"]
    assert any(p["name"] == "unit" and p["in"] == "query" for p in prices_op["parameters"])
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["csrfToken"]["name"] == "X-CSRFToken"
    for path, operations in doc["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["summary"] and operation["security"], (path, method)
    assert not re.search(r'"status"|"errors"', json.dumps(schemas["Error"])), "flask-smorest's own error schema"


def test_api_level_handler_answers_the_error_shape_under_api_paths(app):
    """Statuses without an app error page (e.g. 415) still get the error shape under /api/."""
    from werkzeug.exceptions import UnsupportedMediaType

    from wastebank.api import api

    with app.test_request_context("/api/v1/anything"):
        body, status, _ = api.handle_http_exception(UnsupportedMediaType())
        assert status == 415 and body.get_json()["error"]["code"] == "json_required"
    with app.test_request_context("/elsewhere"):
        payload, status, _ = api.handle_http_exception(UnsupportedMediaType())
        assert status == 415 and payload["code"] == 415  # flask-smorest's own shape off the API
