"""Fixes for what an adversarial review found: each test reproduces the attack."""
import os
import re
from datetime import date

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from wastebank import create_app
from wastebank.extensions import db
from wastebank.models import Deposit, JournalEntry
from wastebank.money import InputError, parse_quantity, parse_rupiah
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import DomainError
from wastebank.services.ledger import verify_ledger
from wastebank.services.transaction import run_in_transaction

from .conftest import IS_POSTGRES, csrf_token


def test_development_key_is_random_per_instance_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "a"))
    first = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    again = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", first.config["SECRET_KEY"])
    assert oct(os.stat(tmp_path / "a" / "secret_key").st_mode & 0o777) == "0o600"
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "b"))
    other = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


@pytest.mark.skipif(IS_POSTGRES, reason="INSERT OR REPLACE is SQLite's")
def test_sqlite_insert_or_replace_cannot_rewrite_the_ledger(net):
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1")],
                                              operator_id=None, idempotency_key="replace-0001"))
    entry = db.session.scalars(select(JournalEntry)).one()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(
            "INSERT OR REPLACE INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reason) "
            "VALUES (:id, :u, 'deposit', 'REWRITTEN', '2020-01-01 00:00:00', '2020-01-01 00:00:00', '')"),
            {"id": entry.id, "u": net.unit_a.id})
    db.session.rollback()
    posting_id = db.session.scalar(text("SELECT min(id) FROM posting"))
    for target_entry in ("entry_id", "90010"):  # the same entry, or re-pointed at a new one
        with pytest.raises(DatabaseError, match="append-only|already written"):
            db.session.execute(text(
                "INSERT OR REPLACE INTO posting (id, entry_id, unit_id, account_id, amount) "
                f"SELECT id, {target_entry}, unit_id, account_id, amount * 2 FROM posting WHERE id = :p"),
                {"p": posting_id})
        db.session.rollback()
    assert db.session.get(JournalEntry, entry.id).memo != "REWRITTEN"
    assert verify_ledger().ok


@pytest.mark.parametrize("text_", ["١٢", "１２", "1٫5", "²"])
def test_only_ascii_digits_are_numbers(text_):
    with pytest.raises(InputError):
        parse_quantity(text_, "kg")
    with pytest.raises(InputError):
        parse_rupiah(text_)


@pytest.mark.parametrize("key", ["k2,k3-abcdef", "key with space", "kunci/slash/123"])
def test_idempotency_keys_with_separators_are_refused(net, key):
    with pytest.raises(DomainError) as err:
        record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1")], operator_id=None,
                       idempotency_key=key)
    assert err.value.code == "idempotency_key_required"


def test_api_refuses_recorded_at_out_of_range_and_duplicate_keys(net, client):
    from wastebank.auth.tokens import create_token
    token = create_token(net.users["op_a"])
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i, stamp in enumerate(["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]):
        body = ('{"member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": "1"}], "recorded_at": "%s"}'
                % (net.members_a[0].member_no, stamp))
        response = client.post("/api/v1/deposits", data=body, headers={**headers, "Idempotency-Key": f"range-000{i}"})
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["field"] == "recorded_at"
    duplicate = ('{"member": "%s", "member": "%s", "lines": [{"category": "PET-CLEAN", "quantity": "1"}]}'
                 % (net.members_a[0].member_no, net.members_a[1].member_no))
    response = client.post("/api/v1/deposits", data=duplicate, headers={**headers, "Idempotency-Key": "dupkey-0001"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
    assert db.session.scalar(select(func.count(Deposit.id))) == 0


def _deposit_form(client, member_no):
    html = client.get(f"/counter/member/{member_no}/deposit").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html).group(1)
    return csrf_token(html), key


def test_more_than_forty_lines_are_refused_not_cut(net, client, login):
    login("op_a")
    member_no = net.members_a[0].member_no
    token, key = _deposit_form(client, member_no)
    data = {"csrf_token": token, "idempotency_key": key, "action": "save"}
    for i in range(45):
        data[f"lines-{i}-category"], data[f"lines-{i}-quantity"] = "PET-CLEAN", "1"
    response = client.post(f"/counter/member/{member_no}/deposit", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Deposit.id))) == 0


def test_saving_refuses_a_figure_other_than_the_one_confirmed(net, client, login):
    login("op_a")
    member_no = net.members_a[0].member_no
    token, key = _deposit_form(client, member_no)
    form = {"csrf_token": token, "idempotency_key": key, "lines-0-category": "PET-CLEAN",
            "lines-0-quantity": "10"}
    review = client.post(f"/counter/member/{member_no}/deposit", data={**form, "action": "review"})
    shown = re.search(r'name="expected_credited" value="(\d+)"', review.get_data(as_text=True)).group(1)
    assert shown == "32500"
    set_price(net.unit_a.id, net.categories["PET-CLEAN"], 100, 200, date.today())  # price drops meanwhile
    db.session.commit()
    saved = client.post(f"/counter/member/{member_no}/deposit",
                        data={**form, "action": "save", "expected_credited": shown})
    assert saved.status_code == 409
    page = saved.get_data(as_text=True)
    assert 'name="expected_credited" value="1000"' in page  # the new figure, to confirm again
    assert db.session.scalar(select(func.count(Deposit.id))) == 0
    confirmed = client.post(f"/counter/member/{member_no}/deposit",
                            data={**form, "action": "save", "expected_credited": "1000"})
    assert confirmed.status_code == 302
    assert db.session.scalars(select(Deposit)).one().credited_idr == 1000


def test_verify_catches_a_receipt_total_edited_in_the_database(net):
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1,5")],
                                              operator_id=None, idempotency_key="edit-00001"))
    db.session.execute(update(Deposit).values(total_idr=9875, credited_idr=9875))
    db.session.commit()
    report = verify_ledger()
    assert not report.ok
    assert any("receipt says total 9875 / credited 9875, ledger says 4875 / 4875" in f for f in report.faults)


def test_counter_member_numbers_are_case_insensitive(net, client, login):
    login("op_a")
    assert client.get(f"/counter/member/{net.members_a[0].member_no.lower()}").status_code == 200


def test_login_limit_counts_per_username(net, database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for _ in range(12):
        client.post("/login", data={"username": "attacker", "password": "x" * 9, "csrf_token": token})
    from .factories import PASSWORD
    ok = client.post("/login", data={"username": "op_b", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL's TRUNCATE and concurrent transactions")
def test_postgres_refuses_truncate_and_late_postings(net, database_url):
    import psycopg

    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1")],
                                              operator_id=None, idempotency_key="pg-guard-01"))
    for table in ("posting", "journal_entry", "audit_log"):
        with pytest.raises(DatabaseError, match="cannot be truncated"):
            db.session.execute(text(f"TRUNCATE {table} CASCADE"))
        db.session.rollback()
    cash, fee = (db.session.scalar(text("SELECT id FROM account WHERE unit_id = :u AND key = :k"),
                                   {"u": net.unit_a.id, "k": k}) for k in ("cash", "fee_income"))
    db.session.commit()
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        insert = "INSERT INTO posting (entry_id, unit_id, account_id, amount) VALUES (90200, %s, %s, %s)"
        a.execute(insert, (net.unit_a.id, cash, 100))
        a.execute(insert, (net.unit_a.id, fee, -100))
        a.execute("INSERT INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reason) "
                  "VALUES (90200, %s, 'raw', '', now(), now(), '')", (net.unit_a.id,))
        # b adds a posting to 90200 while a's entry is not yet visible to it
        b.execute("INSERT INTO posting (entry_id, unit_id, account_id, amount) VALUES (90200, %s, %s, -1000000)",
                  (net.unit_a.id, fee))
        a.commit()
        with pytest.raises(psycopg.errors.RaiseException, match="unbalanced"):
            b.commit()
    # a's balanced entry stands (raw SQL, so cached balances were not moved); b's posting is gone
    assert db.session.scalar(text("SELECT sum(amount), count(*) FROM posting WHERE entry_id = 90200")) == 0
    assert db.session.scalar(text("SELECT count(*) FROM posting WHERE entry_id = 90200")) == 2
