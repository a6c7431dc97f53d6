"""Issue 8 items 2 and 4 on the server: the counter snapshot API for the tablet's offline copy,
finding a member the way operators type on the find screen and in the JSON API, and the
"served today" list of the find screen."""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from wastebank.extensions import db
from wastebank.models import MemberCard, clock_at
from wastebank.services.catalog import current_prices, set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import create_member, issue_card, live_card, revoke_card, set_member_active
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal
from wastebank.timeutil import local_today

from .conftest import bearer

URL = "/api/v1/counter/snapshot"




def sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def deposit(net, member, quantity="1,5", category="PET-CLEAN", recorded_at=None, unit=None):
    unit = unit or net.unit_a
    operator = net.users["op_a" if unit.id == net.unit_a.id else "op_b"]
    outcome = record_deposit(unit, member, [LineInput(category, quantity)], operator_id=operator.id,
                             idempotency_key=str(uuid.uuid4()), recorded_at=recorded_at)
    db.session.commit()
    assert outcome.status == 201, outcome.body
    return outcome.body


def add_members(unit, count: int, prefix="Warga"):
    made = [create_member(unit, f"{prefix} {i:03d}") for i in range(count)]
    db.session.commit()
    return made


# --- snapshot: shape and values -----------------------------------------------------------------


def test_snapshot_shape_and_real_values(net, client, tokens):
    siti, joko, nono = net.members_a
    deposit(net, siti, "1,5")  # 1.5 kg × Rp 3.250 = Rp 4.875, no fee at RW05
    set_member_active(joko, False)
    old_token = live_card(nono).token
    new_token = issue_card(nono).token
    db.session.commit()

    response = client.get(URL, headers=bearer(tokens["op_a"]))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"unit", "generated_at", "members", "prices", "upcoming_prices", "containers"}
    assert body["unit"] == {"code": "RW05", "name": "Bank Sampah Melati RW 05", "fee_bp": 0,
                            "receipt_width_mm": 80}
    generated = datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00"))
    assert generated.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - generated) < timedelta(minutes=2)

    members = {m["member_no"]: m for m in body["members"]}
    assert list(members) == ["RW05-0001", "RW05-0003"]  # active only, by number
    assert members["RW05-0001"] == {"member_no": "RW05-0001", "name": "Siti Aminah", "rt": "", "rw": "05",
                                    "balance_idr": 4875, "card_hashes": [sha(live_card(siti).token)]}
    assert members["RW05-0003"]["name"] == "Ñoño Đặng Łukasz"
    assert members["RW05-0003"]["balance_idr"] == 0
    assert members["RW05-0003"]["card_hashes"] == [sha(new_token)]  # the revoked card is gone
    assert sha(old_token) not in response.get_data(as_text=True)

    prices = {p["category"]: p for p in body["prices"]}
    assert prices["PET-CLEAN"] == {
        "category": "PET-CLEAN", "name_id": net.categories["PET-CLEAN"].name_id,
        "name_en": net.categories["PET-CLEAN"].name_en, "unit": "kg",
        "material_group": net.categories["PET-CLEAN"].material_group,
        "buy_price_idr": 3250, "max_line_milli": net.categories["PET-CLEAN"].max_line_milli,
        "effective_from": "2024-01-01"}
    assert prices["CARDBOARD"]["buy_price_idr"] == 2000
    expected = current_prices(net.unit_a.id)
    assert [p["category"] for p in body["prices"]] == [row.category.code for row in expected.values()]
    assert [p["buy_price_idr"] for p in body["prices"]] == [row.buy_price_idr for row in expected.values()]
    assert body["upcoming_prices"] == []


def test_snapshot_never_contains_a_card_token(net, client, tokens):
    revoke_card(net.members_a[1])
    db.session.commit()
    text = client.get(URL, headers=bearer(tokens["op_a"])).get_data(as_text=True)
    every_token = list(db.session.scalars(select(MemberCard.token)))
    assert len(every_token) == 6
    for token in every_token:
        assert token not in text
    assert "token" not in text


def test_upcoming_prices_are_the_next_seven_days(net, client, tokens):
    today = local_today()
    pet, cardboard = net.categories["PET-CLEAN"], net.categories["CARDBOARD"]
    set_price(net.unit_a.id, pet, 3400, 4600, today)                       # in force now
    set_price(net.unit_a.id, pet, 3500, 4700, today + timedelta(days=3))   # upcoming
    set_price(net.unit_a.id, cardboard, 2100, 2700, today + timedelta(days=7))  # upcoming (last day)
    set_price(net.unit_a.id, cardboard, 2200, 2800, today + timedelta(days=8))  # too far
    set_price(net.unit_b.id, pet, 9999, 9999, today + timedelta(days=1))   # another unit's
    db.session.commit()
    body = client.get(URL, headers=bearer(tokens["op_a"])).get_json()
    prices = {p["category"]: p for p in body["prices"]}
    assert prices["PET-CLEAN"]["buy_price_idr"] == 3400
    assert prices["PET-CLEAN"]["effective_from"] == today.isoformat()
    assert prices["CARDBOARD"]["buy_price_idr"] == 2000
    assert [(p["category"], p["buy_price_idr"], p["effective_from"]) for p in body["upcoming_prices"]] == [
        ("PET-CLEAN", 3500, (today + timedelta(days=3)).isoformat()),
        ("CARDBOARD", 2100, (today + timedelta(days=7)).isoformat()),
    ]
    assert set(body["upcoming_prices"][0]) == set(body["prices"][0])


def test_snapshot_is_scoped_to_the_callers_unit(net, client, tokens):
    body_a = client.get(URL, headers=bearer(tokens["op_a"])).get_json()
    body_b = client.get(URL, headers=bearer(tokens["op_b"])).get_json()
    numbers_a = {m["member_no"] for m in body_a["members"]}
    numbers_b = {m["member_no"] for m in body_b["members"]}
    assert numbers_a == {"RW05-0001", "RW05-0002", "RW05-0003"}
    assert numbers_b == {"RW07-0001", "RW07-0002", "RW07-0003"}
    text_a = client.get(URL, headers=bearer(tokens["op_a"])).get_data(as_text=True)
    for member in net.members_b:
        assert member.name not in text_a
        assert sha(live_card(member).token) not in text_a
    assert body_b["unit"]["code"] == "RW07" and body_b["unit"]["receipt_width_mm"] == 58
    pet_b = next(p for p in body_b["prices"] if p["category"] == "PET-CLEAN")
    assert pet_b["buy_price_idr"] != 3250  # RW07 keeps the catalogue's price
    assert client.get(URL, headers=bearer(tokens["mgr_a"])).get_json()["unit"]["code"] == "RW05"


@pytest.mark.parametrize("username", ["collab", "agg", "admin"])
def test_roles_without_a_counter_get_403(net, client, tokens, username):
    response = client.get(URL, headers=bearer(tokens[username]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_anonymous_gets_401(net, client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get(URL, headers=bearer("not-a-token")).status_code == 401


def test_snapshot_with_the_session_cookie(net, client, login):
    login("op_a")
    response = client.get(URL)
    assert response.status_code == 200
    assert len(response.get_json()["members"]) == 3


def test_snapshot_is_documented(net, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/counter/snapshot"]["get"]
    assert {"bearerAuth": []} in op["security"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == {"unit", "generated_at", "members", "prices", "upcoming_prices", "containers"}
    for status in ("401", "403"):
        assert op["responses"][status]["content"]["application/json"]["schema"] == \
            {"$ref": "#/components/schemas/Error"}
    member = doc["components"]["schemas"]["SnapshotMember"]
    assert set(member["properties"]) == {"member_no", "name", "rt", "rw", "balance_idr", "card_hashes"}


def _count_statements(client, token) -> tuple[int, dict]:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(URL, headers=bearer(token))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response.get_json()


def test_snapshot_costs_a_fixed_number_of_queries(net, client, tokens):
    # The token's first use writes its sliding expiry (docs/tokens.md); count from the second.
    _count_statements(client, tokens["op_a"])
    db.session.commit()  # as after the deposits below: a new transaction, the user and unit read again
    few, body = _count_statements(client, tokens["op_a"])
    assert len(body["members"]) == 3
    made = add_members(net.unit_a, 297)
    for member in made[:5]:
        deposit(net, member, "2")  # balances of Rp 6.500
    many, body = _count_statements(client, tokens["op_a"])
    assert len(body["members"]) == 300
    assert sum(1 for m in body["members"] if m["balance_idr"] == 6500) == 5
    assert all(len(m["card_hashes"]) == 1 for m in body["members"])
    assert many == few
    assert many <= 12


# --- the find screen and the API find members as operators type -------------------------------


@pytest.mark.parametrize("typed", ["12", "0012", "rw05-12", "RW05-12", "rw05 12", "RW05-0012", " rw0512 "])
def test_find_screen_opens_member_12_the_way_operators_type(net, client, login, typed):
    add_members(net.unit_a, 9)  # RW05-0004 … RW05-0012
    login("op_a")
    response = client.get("/counter", query_string={"q": typed})
    assert response.status_code == 302
    assert response.location.endswith("/counter/member/RW05-0012/deposit")


def test_find_screen_keeps_units_apart(net, client, login):
    login("op_a")
    page = client.get("/counter", query_string={"q": "RW07-0003"})
    assert page.status_code == 200
    assert net.members_b[2].name not in page.get_data(as_text=True)
    assert client.get("/counter", query_string={"q": "2"}).location.endswith("/counter/member/RW05-0002/deposit")


def test_find_screen_at_another_unit(net, client, login):
    login("op_b")
    assert client.get("/counter", query_string={"q": "3"}).location.endswith("/counter/member/RW07-0003/deposit")


def test_api_deposit_finds_the_member_the_way_operators_type(net, client, tokens):
    add_members(net.unit_a, 9)
    response = client.post("/api/v1/deposits", json={"member": "rw05 12", "lines": [
        {"category": "PET-CLEAN", "quantity": "1,5"}]},
        headers={**bearer(tokens["op_a"]), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["member_no"] == "RW05-0012"
    assert response.get_json()["credited_idr"] == 4875
    refused = client.post("/api/v1/deposits", json={"member": "RW07-0003", "lines": [
        {"category": "PET-CLEAN", "quantity": "1"}]},
        headers={**bearer(tokens["op_a"]), "Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "member_not_found"


# --- served today -------------------------------------------------------------------------------

# 10:00 WIB on 2 March 2026 (03:00 UTC): "today" is 2 March in Jakarta.
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def _served(html: str) -> list[tuple[str, str]]:
    """(member number, local time) of each entry of the served-today list, in order."""
    block = re.search(r'<ul class="results" id="served-today">(.*?)</ul>', html, re.S)
    if block is None:
        return []
    return re.findall(r'href="/counter/member/([^/]+)/deposit".*?<time[^>]*>([^<]+)</time>', block.group(1), re.S)


def test_served_today_lists_the_last_ten_distinct_members_newest_first(net, client, login):
    with clock_at(NOW):
        members = net.members_a + add_members(net.unit_a, 10)  # RW05-0001 … RW05-0013
        siti, joko, nono = net.members_a
        # Yesterday 23:30 WIB (16:30 UTC on 1 March): not today.
        deposit(net, joko, recorded_at=datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc))
        # Today 00:10 WIB is 17:10 UTC on 1 March: today in Jakarta.
        deposit(net, nono, recorded_at=datetime(2026, 3, 1, 17, 10, tzinfo=timezone.utc))
        for i, member in enumerate(members[3:13]):  # 08:00, 08:05, … 08:45 WIB
            deposit(net, member, "1", recorded_at=datetime(2026, 3, 2, 1, 5 * i, tzinfo=timezone.utc))
        deposit(net, siti, "3", recorded_at=datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))  # 09:00
        # Siti withdraws at 09:30 WIB: she moves to the top once, not twice.
        with clock_at(datetime(2026, 3, 2, 2, 30, tzinfo=timezone.utc)):
            outcome = record_withdrawal(net.unit_a, siti, WithdrawalInput("cash", 5000),
                                        user=net.users["op_a"], idempotency_key=str(uuid.uuid4()))
            db.session.commit()
        assert outcome.status == 201, outcome.body
        deposit(net, members[12], "1", recorded_at=datetime(2026, 3, 2, 2, 15, tzinfo=timezone.utc))  # 09:15 again
        deposit(net, net.members_b[0], unit=net.unit_b)  # RW07: never at RW05's counter

        login("op_a")
        html = client.get("/counter").get_data(as_text=True)
    assert "Dilayani hari ini" in html
    served = _served(html)
    assert served == [
        ("RW05-0001", "09.30 WIB"),
        ("RW05-0013", "09.15 WIB"),
        ("RW05-0012", "08.40 WIB"),
        ("RW05-0011", "08.35 WIB"),
        ("RW05-0010", "08.30 WIB"),
        ("RW05-0009", "08.25 WIB"),
        ("RW05-0008", "08.20 WIB"),
        ("RW05-0007", "08.15 WIB"),
        ("RW05-0006", "08.10 WIB"),
        ("RW05-0005", "08.05 WIB"),
    ]
    assert "RW05-0002" not in [no for no, _ in served]  # yesterday only
    assert net.members_b[0].name not in html
    # Each entry links to the deposit screen and uses the 56 px result style (≥ 44 px).
    assert html.count('class="result" href="/counter/member/') == 10
    # The find form is unchanged.
    assert 'id="q"' in html and 'name="q"' in html and 'id="scan-button"' in html and 'id="scan-box"' in html


def test_served_today_empty_and_after_midnight(net, client, login):
    with clock_at(NOW):
        login("op_a")
        html = client.get("/counter").get_data(as_text=True)
        assert _served(html) == []
        assert "Belum ada yang dilayani hari ini." in html
        deposit(net, net.members_a[2], recorded_at=datetime(2026, 3, 1, 17, 10, tzinfo=timezone.utc))
        assert _served(client.get("/counter").get_data(as_text=True)) == [("RW05-0003", "00.10 WIB")]
    # The next local day (3 March, 08:00 WIB) starts an empty list.
    with clock_at(datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)):
        assert _served(client.get("/counter").get_data(as_text=True)) == []
