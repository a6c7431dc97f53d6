"""Issue 10 items 5–7: the reproducers, each a 4xx with a translated message and no change.

The rules live in ``wastebank/inputs.py`` (docs/input-rules.md); ``test_input_sweep.py``
sends the same kinds of values to every field of every route.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.inputs import BIGINT_MAX, parse_int, text_filter
from wastebank.models import AuditLog, JournalEntry, Member, MemberCard, Offtaker, Posting
from wastebank.money import InputError
from wastebank.services.members import issue_card

from .conftest import csrf_token

BAD_NAMES = ["Budi\x00", "\x00", "\x1b[31m", "\u200b\u200c", "\u202eBudi", "Bu\ufeffdi"]
CONTROL = "Budi\x00Santoso"
BIGINT_PLUS_ONE = str(2**63)


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Member, Offtaker, JournalEntry, Posting, AuditLog))


# --- the functions ------------------------------------------------------------------------------


@pytest.mark.parametrize("text_", ["²", "١٢", "１２", "1e3", "1.0", "NaN", "", " ", "+5", "0x10", "1_000"])
def test_parse_int_takes_ascii_digits_only(text_):
    with pytest.raises(InputError) as caught:
        parse_int(text_)
    assert caught.value.code == "not_a_number"


@pytest.mark.parametrize("text_", [BIGINT_PLUS_ONE, "-1", "9" * 5000, "-" + BIGINT_PLUS_ONE])
def test_parse_int_refuses_what_no_bigint_holds(text_):
    with pytest.raises(InputError) as caught:
        parse_int(text_)
    assert caught.value.code == "out_of_range"


def test_parse_int_reads_the_range_edges():
    assert parse_int(" 0042 ") == 42
    assert parse_int(str(BIGINT_MAX)) == BIGINT_MAX
    assert parse_int("-5", minimum=-10) == -5


@pytest.mark.parametrize("value", BAD_NAMES)
def test_text_filter_refuses_control_and_format_characters(value):
    with pytest.raises(ValueError, match="not allowed"):
        text_filter(value)


def test_text_filter_keeps_line_breaks_only_in_multiline_boxes():
    assert text_filter("Budi \U0001f600 Ñoño") == "Budi \U0001f600 Ñoño"
    assert text_filter("satu\r\ndua\rtiga", multiline=True) == "satu\ndua\ntiga"
    with pytest.raises(ValueError):
        text_filter("satu\r\ndua")
    with pytest.raises(ValueError):
        text_filter("satu\n\x00", multiline=True)


# --- item 5: control characters in form fields and query arguments -----------------------------


@pytest.mark.parametrize("field", ["name", "address", "rt", "rw"])
@pytest.mark.parametrize("value", BAD_NAMES)
def test_member_form_refuses_bad_characters(net, client, login, field, value):
    login("mgr_a")
    page = client.get("/members/new").get_data(as_text=True)
    before = _counts()
    data = {"name": "Budi Santoso", "kind": "person", "phone": "", "address": "", "rt": "", "rw": "",
            "csrf_token": csrf_token(page)}
    data[field] = value
    response = client.post("/members/new", data=data)
    assert response.status_code == 422
    assert "karakter yang tidak diizinkan" in response.get_data(as_text=True)
    assert _counts() == before


def test_member_edit_refuses_a_nul_name_and_keeps_the_old_one(net, client, login):
    login("mgr_a")
    member = net.members_a[0]
    page = client.get(f"/members/{member.member_no}/edit").get_data(as_text=True)
    response = client.post(f"/members/{member.member_no}/edit", data={
        "name": CONTROL, "kind": "person", "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, member.id).name == "Siti Aminah"


@pytest.mark.parametrize("url", ["/counter?q=Budi%00", "/members/?q=%00", "/counter?q=%E2%80%8B",
                                 "/manager/audit?action=%00", "/manager/stock/adjust?category=%00",
                                 "/reports/unit?unit=%00"])
def test_query_arguments_refuse_bad_characters(net, client, login, url):
    login("mgr_a")
    response = client.get(url)
    assert response.status_code == 400
    assert "karakter yang tidak diizinkan" in response.get_data(as_text=True)


def test_search_still_finds_names_with_accents_and_emoji_is_just_no_match(net, client, login):
    login("mgr_a")
    # (SQLite's lower() folds ASCII only, so search a part without capitals outside ASCII)
    page = client.get("/members/?q=o%C3%B1o").get_data(as_text=True)
    assert "Ñoño Đặng Łukasz" in page
    assert client.get("/counter?q=%F0%9F%98%80").status_code == 200


def _deposit_form(client, member_no):
    page = client.get(f"/counter/member/{member_no}/deposit").get_data(as_text=True)
    import re

    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf_token(page), "idempotency_key": key}


def test_deposit_category_with_nul_is_refused(net, client, login):
    login("op_a")
    member = net.members_a[0]
    before = _counts()
    data = {**_deposit_form(client, member.member_no), "lines-0-category": "PET-CLEAN\x00",
            "lines-0-quantity": "1", "action": "save"}
    response = client.post(f"/counter/member/{member.member_no}/deposit", data=data)
    assert response.status_code == 422
    assert "karakter yang tidak diizinkan" in response.get_data(as_text=True)
    assert _counts() == before


def test_stock_adjust_category_with_nul_is_refused(net, client, login):
    login("mgr_a")
    page = client.get("/manager/stock/adjust").get_data(as_text=True)
    before = _counts()
    response = client.post("/manager/stock/adjust", data={
        "category": "PET-CLEAN\x00", "direction": "in", "quantity": "1", "reason": "ditemukan di gudang",
        "idempotency_key": "adjust-nul-0001", "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert "karakter yang tidak diizinkan" in response.get_data(as_text=True)
    assert _counts() == before


@pytest.mark.parametrize("value", BAD_NAMES)
def test_offtaker_name_with_bad_characters_is_refused(net, client, login, value):
    login("mgr_a")
    page = client.get("/manager/offtakers").get_data(as_text=True)
    before = _counts()
    response = client.post("/manager/offtakers", data={"name": value, "kind": "pengepul",
                                                       "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert _counts() == before


def test_sale_note_keeps_its_line_breaks(net, client, login):
    from wastebank.manager.forms import SaleForm

    with client.application.test_request_context(method="POST", data={"offtaker": "1", "note": "a\r\nb"}):
        form = SaleForm(meta={"csrf": False})
        assert form.validate()
        assert form.note.data == "a\nb"


# --- item 6: days at the edges -------------------------------------------------------------------


def _card_token(net) -> str:
    card = db.session.scalar(select(MemberCard).where(MemberCard.member_id == net.members_a[0].id,
                                                      MemberCard.revoked_at.is_(None)))
    if card is None:
        card = issue_card(net.members_a[0])
        db.session.commit()
    return card.token


@pytest.mark.parametrize("query", ["end=0001-01-01", "start=9999-12-30", "start=0001-01-01&end=9999-12-31",
                                   "end=2026-02-30", "start=20261201", "end=%00"])
def test_resident_statement_refuses_days_at_the_edges(net, client, query):
    response = client.get(f"/c/{_card_token(net)}/statement.pdf?{query}")
    assert response.status_code == 400
    # The card page again, the message for residents beside the date (test_public_pages_texts).
    assert "Tanggal ini tidak bisa dipakai. Pilih tanggal sejak Anda terdaftar" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["end=0001-01-01", "start=9999-12-30"])
def test_member_passbook_refuses_days_at_the_edges(net, client, login, query):
    login("mgr_a")
    response = client.get(f"/members/{net.members_a[0].member_no}/statement.pdf?{query}")
    assert response.status_code == 400
    assert "TTTT-BB-HH" in response.get_data(as_text=True)


def test_resident_statement_with_good_days_is_a_pdf(net, client):
    response = client.get(f"/c/{_card_token(net)}/statement.pdf?start=2026-01-01&end=2026-01-31")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"


@pytest.mark.parametrize("url", ["/manager/cashbook?day=0001-01-01", "/manager/cashbook?day=9999-12-31",
                                 "/reports/unit?day=0001-01-01", "/reports/unit?day=9999-12-31"])
def test_cashbook_and_unit_report_refuse_days_at_the_edges(net, client, login, url):
    login("mgr_a")
    response = client.get(url)
    assert response.status_code == 400
    assert "TTTT-BB-HH" in response.get_data(as_text=True)


def test_cashbook_close_refuses_a_business_date_at_the_edge(net, client, login):
    login("mgr_a")
    page = client.get("/manager/cashbook").get_data(as_text=True)
    before = _counts()
    response = client.post("/manager/cashbook/close", data={
        "business_date": "0001-01-01", "counted": "0", "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert _counts() == before


def test_english_message_for_a_bad_day(net, client, login):
    login("mgr_a")
    with client.session_transaction() as session:
        session["lang"] = "en"
    text = client.get("/manager/cashbook?day=9999-12-31").get_data(as_text=True)
    assert "Enter a date as YYYY-MM-DD between 1970-01-01 and 9000-12-31." in text


# --- item 7: integers past 2^63 and digits that are not ASCII ------------------------------------


def test_card_sheet_refuses_a_member_id_past_bigint(net, client, login):
    login("mgr_a")
    before = _counts()
    response = client.get("/members/cards", query_string={"member_id": BIGINT_PLUS_ONE})
    assert response.status_code == 400
    assert "Angka ini di luar batas." in response.get_data(as_text=True)
    assert _counts() == before


@pytest.mark.parametrize("value", [BIGINT_PLUS_ONE, "²", "-1", "1e3"])
def test_sale_refuses_an_offtaker_that_is_no_bigint(net, client, login, value):
    login("mgr_a")
    page = client.get("/manager/sales/new").get_data(as_text=True)
    before = _counts()
    response = client.post("/manager/sales/new", data={"offtaker": value, "payment": "cash", "action": "review",
                                                       "idempotency_key": "sale-big-0001",
                                                       "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    assert _counts() == before


@pytest.mark.parametrize("page_", [BIGINT_PLUS_ONE, "92233720368547759", "²", "-5", "0"])
def test_audit_page_number_past_the_range_is_400(net, client, login, page_):
    login("mgr_a")
    response = client.get(f"/manager/audit?page={page_}")
    assert response.status_code == 400
    expected = "Isi bilangan bulat dengan angka 0–9." if page_ == "²" else "Angka ini di luar batas."
    assert expected in response.get_data(as_text=True)


def test_deposit_save_refuses_a_superscript_expected_credit(net, client, login):
    login("op_a")
    member = net.members_a[0]
    before = _counts()
    data = {**_deposit_form(client, member.member_no), "lines-0-category": "PET-CLEAN",
            "lines-0-quantity": "1", "action": "save", "expected_credited": "²"}
    response = client.post(f"/counter/member/{member.member_no}/deposit", data=data)
    assert response.status_code == 422
    assert "Isi bilangan bulat dengan angka 0–9." in response.get_data(as_text=True)
    assert _counts() == before
    data["expected_credited"] = "3250"
    assert client.post(f"/counter/member/{member.member_no}/deposit", data=data).status_code == 302


def test_member_active_flag_must_be_0_or_1(net, client, login):
    login("mgr_a")
    member = net.members_a[0]
    page = client.get(f"/members/{member.member_no}").get_data(as_text=True)
    response = client.post(f"/members/{member.member_no}/active", data={"active": "\x00",
                                                                         "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Member, member.id).active is True


def test_a_checkbox_holding_a_control_character_is_refused(net, client, login):
    login("mgr_a")
    page = client.get("/members/").get_data(as_text=True)
    response = client.post("/members/settings", data={"require_pin": "\x00", "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    db.session.expire_all()
    assert net.unit_a.require_pin is False


def test_bad_days_never_reach_the_time_zone_arithmetic():
    from wastebank.timeutil import MAX_DAY, MIN_DAY, local_day_bounds, parse_day

    assert parse_day("0001-01-01") is None and parse_day("9999-12-31") is None
    assert parse_day(MIN_DAY.isoformat()) == MIN_DAY == date(1970, 1, 1)
    local_day_bounds(MAX_DAY)  # the last day the app accepts still converts


# --- path segments: every <arg> of every route --------------------------------------------------


@pytest.mark.parametrize("segment", ["%00", "9223372036854775808", "%E2%80%AEx", "-5", "%C2%B2"])
def test_every_path_argument_refuses_hostile_segments_without_a_5xx(net, client, login, app, segment):
    """Each ``<arg>`` of each HTML route replaced by ``segment`` (``<int:…>`` stops at 2^63−1:
    ``inputs.BigIntConverter``): 4xx, nothing written."""
    login("admin")
    page = client.get("/password").get_data(as_text=True)
    token = csrf_token(page)
    before = _counts()
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", segment, url)
        for method in ("GET", "POST"):
            if method in rule.methods:
                response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                tried += 1
                assert response.status_code < 500, (method, url, response.status_code)
    assert tried > 20
    assert _counts() == before
