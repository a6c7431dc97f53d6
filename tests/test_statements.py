"""Monthly aggregator statement (issue 5): C08, reconciliation with raw postings, PDF/CSV/API/CLI,
aggregator scope."""
from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import bindparam, text

from wastebank.extensions import db
from wastebank.models import UTCDateTime, clock_at
from wastebank.reports.figures import period_figures
from wastebank.reports.csvfile import safe_cell
from wastebank.reports.statements import (aggregator_statement, build_statement, find_aggregator, statement_csv,
                                          statement_json, statement_pdf)
from wastebank.services.members import create_member
from wastebank.services.org import create_aggregator, create_unit, create_user
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.timeutil import local_month_bounds

from .factories import PASSWORD
from .report_helpers import at, deposit, pdf_text, void, withdraw


def _jkt():
    return find_aggregator("JKT")


# --- C08 ---------------------------------------------------------------------------------------


def test_c08_deposit_at_2015_wib_on_31_january_is_in_january(net):
    member = net.members_a[0]
    deposit(net.unit_a, member, [("PET-CLEAN", "1,5")], at(2025, 1, 31, 20, 15))
    db.session.commit()
    jan = aggregator_statement(_jkt(), 2025, 1)
    feb = aggregator_statement(_jkt(), 2025, 2)
    rw05_jan = next(u for u in jan.units if u.code == "RW05")
    rw05_feb = next(u for u in feb.units if u.code == "RW05")
    assert (rw05_jan.deposits, rw05_jan.deposit_value_idr) == (1, 4875)
    pet = next(c for c in jan.categories.values() if c.code == "PET-CLEAN")
    assert rw05_jan.categories[pet.id].quantity_milli == 1500
    assert (rw05_feb.deposits, rw05_feb.deposit_value_idr) == (0, 0)
    assert jan.total.deposit_value_idr == 4875 and feb.total.deposit_value_idr == 0
    # Savings owed at the end of January include it; so does February (a balance).
    assert rw05_jan.savings_owed_idr == 4875 and rw05_feb.savings_owed_idr == 4875


def test_c08_boundaries_local_midnight_and_offline_capture(net):
    m = net.members_a[1]
    deposit(net.unit_a, m, [("PET-CLEAN", "1")], at(2025, 1, 31, 23, 59))   # January
    deposit(net.unit_a, m, [("PET-CLEAN", "2")], at(2025, 2, 1, 0, 0))      # February
    # Captured offline on 31 January 21:00 WIB, synced on 2 February: January (I11).
    deposit(net.unit_a, m, [("PET-CLEAN", "4")], at(2025, 2, 2, 9, 0), recorded_at=at(2025, 1, 31, 21, 0))
    db.session.commit()
    jan = {u.code: u for u in aggregator_statement(_jkt(), 2025, 1).units}
    feb = {u.code: u for u in aggregator_statement(_jkt(), 2025, 2).units}
    assert jan["RW05"].deposit_value_idr == 3250 + 13000
    assert feb["RW05"].deposit_value_idr == 6500
    assert jan["RW05"].deposits == 2 and feb["RW05"].deposits == 1


# --- a month of business, reconciled with raw SQL ------------------------------------------------


@pytest.fixture
def books(net):
    """January and February 2025 at both units: deposits, a same-month void, a void in the
    next month, withdrawals by several methods (one voided), a sale, a new member."""
    a, b = net.unit_a, net.unit_b
    mgr_a, op_a, op_b = net.users["mgr_a"], net.users["op_a"], net.users["op_b"]
    m1, m2, m3 = net.members_a
    for day in (3, 8, 14, 21, 27):  # m1 active (5 deposits)
        deposit(a, m1, [("PET-CLEAN", "2,5"), ("CARDBOARD", "3")], at(2025, 1, day))
    for day in (4, 9, 15, 22):  # m2: 4 deposits, one voided in January → 3 net, not active
        last = deposit(a, m2, [("PET-CLEAN", "1,2")], at(2025, 1, day))
    void(last, at(2025, 1, 23), mgr_a)
    across = deposit(a, m3, [("CARDBOARD", "10")], at(2025, 1, 30))  # voided in February
    for i, m in enumerate(net.members_b):
        deposit(b, m, [("PET-CLEAN", "1,5"), ("ALU-CAN", "0,75")], at(2025, 1, 10 + i))
    w1 = withdraw(a, m1, 5000, at(2025, 1, 28), op_a)
    withdraw(a, m1, 2000, at(2025, 1, 29), op_a, method="donation")
    withdraw(b, net.members_b[0], 1000, at(2025, 1, 29), op_b, method="transfer")
    void(w1, at(2025, 1, 30), mgr_a)
    with clock_at(at(2025, 1, 31, 9)):
        buyer = create_offtaker(a, "Pengepul Jaya")
        sale = record_sale(a, buyer, [SaleLineInput("CARDBOARD", "10", "9,5", "2600")], "cash", user=mgr_a,
                           idempotency_key=uuid.uuid4().hex)
        assert sale.status == 201, sale.body
    with clock_at(at(2025, 1, 20)):
        create_member(a, "Warga Baru")
    void(across, at(2025, 2, 2), mgr_a)
    deposit(a, m2, [("PET-CLEAN", "1")], at(2025, 2, 5))
    db.session.commit()
    return net


def _raw(sql: str, **params) -> dict:
    """unit_id → value of a plain-SQL aggregate with bound UTC instants ``s`` and ``e``."""
    stmt = text(sql)
    params = {k: v for k, v in params.items() if f":{k}" in sql}
    binds = [bindparam(k, type_=UTCDateTime()) for k in params if k in ("s", "e")]
    if binds:
        stmt = stmt.bindparams(*binds)
    return {row[0]: int(row[1] or 0) for row in db.session.execute(stmt, params)}


def _raw_figures(year: int, month: int) -> dict[str, dict]:
    s, e = local_month_bounds(year, month)
    deposit_entries = """(SELECT je.id FROM journal_entry je JOIN deposit d ON d.entry_id = je.id
                          UNION ALL SELECT je.id FROM journal_entry je JOIN deposit d ON d.void_entry_id = je.id)"""
    withdrawal_entries = """(SELECT w.entry_id FROM withdrawal w WHERE w.entry_id IS NOT NULL
                             UNION ALL SELECT w.void_entry_id FROM withdrawal w WHERE w.void_entry_id IS NOT NULL)"""

    def postings(kind, entries=None, before_end=False, column="p.amount"):
        cond = "je.recorded_at < :e" if before_end else "je.recorded_at >= :s AND je.recorded_at < :e"
        extra = f" AND je.id IN {entries}" if entries else ""
        return _raw(f"""SELECT p.unit_id, SUM({column}) FROM posting p JOIN account a ON a.id = p.account_id
                        JOIN journal_entry je ON je.id = p.entry_id
                        WHERE a.kind = '{kind}' AND {cond}{extra} GROUP BY p.unit_id""", s=s, e=e)

    figures = {
        "deposit_value_idr": postings("stock", deposit_entries),
        "fee_idr": {k: -v for k, v in postings("fee_income").items()},
        "credited_idr": {k: -v for k, v in postings("member_savings", deposit_entries).items()},
        "withdrawals_total_idr": postings("member_savings", withdrawal_entries),
        "savings_owed_idr": {k: -v for k, v in postings("member_savings", before_end=True).items()},
        "stock_idr": postings("stock", before_end=True),
        "margin_idr": {k: -v for k, v in postings("trading_margin").items()},
        "sales_idr": _raw("SELECT unit_id, SUM(total_idr) FROM sale WHERE posted_at >= :s AND posted_at < :e "
                          "GROUP BY unit_id", s=s, e=e),
        "members": _raw("SELECT unit_id, COUNT(*) FROM member WHERE created_at < :e GROUP BY unit_id", e=e),
        "deposits": {},
        "active_members": _raw("""SELECT unit_id, COUNT(*) FROM (
                SELECT d.unit_id, d.member_id,
                       SUM(CASE WHEN d.recorded_at >= :s AND d.recorded_at < :e THEN 1 ELSE 0 END)
                     - SUM(CASE WHEN v.recorded_at >= :s AND v.recorded_at < :e THEN 1 ELSE 0 END) AS n
                FROM deposit d LEFT JOIN journal_entry v ON v.id = d.void_entry_id
                GROUP BY d.unit_id, d.member_id) t WHERE n >= 4 GROUP BY unit_id""", s=s, e=e),
    }
    recorded = _raw("SELECT unit_id, COUNT(*) FROM deposit WHERE recorded_at >= :s AND recorded_at < :e "
                    "GROUP BY unit_id", s=s, e=e)
    voided = _raw("""SELECT d.unit_id, COUNT(*) FROM deposit d JOIN journal_entry v ON v.id = d.void_entry_id
                     WHERE v.recorded_at >= :s AND v.recorded_at < :e GROUP BY d.unit_id""", s=s, e=e)
    figures["deposits"] = {u: recorded.get(u, 0) - voided.get(u, 0) for u in set(recorded) | set(voided)}
    figures["stock_qty"] = _raw(f"""SELECT a.category_id, SUM(p.quantity_milli) FROM posting p
            JOIN account a ON a.id = p.account_id JOIN journal_entry je ON je.id = p.entry_id
            WHERE a.kind = 'stock' AND je.recorded_at >= :s AND je.recorded_at < :e AND je.id IN {deposit_entries}
            GROUP BY a.category_id""", s=s, e=e)
    return figures


@pytest.mark.parametrize("month", [1, 2])
def test_every_statement_figure_equals_raw_postings(books, month):
    st = aggregator_statement(_jkt(), 2025, month)
    raw = _raw_figures(2025, month)
    for name, per_unit in raw.items():
        if name == "stock_qty":
            continue
        for fig in st.units:
            value = getattr(fig, name)
            assert value == per_unit.get(fig.unit_id, 0), (month, name, fig.code)
        total = getattr(st.total, name)
        assert total == sum(per_unit.values()), (month, name)
    assert {c: f.quantity_milli for c, f in st.total.categories.items() if f.quantity_milli} == \
        {c: q for c, q in raw["stock_qty"].items() if q}
    # Value by category adds up to the deposit value; value = fee + credited.
    assert sum(f.value_idr for f in st.total.categories.values()) == st.total.deposit_value_idr
    assert st.total.deposit_value_idr == st.total.fee_idr + st.total.credited_idr


def test_books_expected_values(books):
    jan = {u.code: u for u in aggregator_statement(_jkt(), 2025, 1).units}
    feb = {u.code: u for u in aggregator_statement(_jkt(), 2025, 2).units}
    a = jan["RW05"]
    assert a.active_members == 1            # m1 with 5; m2 has 3 net
    assert a.deposits == 5 + 4 - 1 + 1 == 9 and a.voided_deposits == 1
    assert a.withdrawals_idr == {"cash": 0, "transfer": 0, "goods": 0, "donation": 2000, "gold": 0, "bill": 0}
    assert a.members == 1 and a.new_members == 1  # the network's members are registered "now"
    assert a.sales == 1 and a.sales_idr == 9500 * 2600 // 1000
    assert jan["RW07"].withdrawals_idr["transfer"] == 1000
    # The deposit voided in February: in January's figures, reversed in February's.
    assert feb["RW05"].deposits == 1 - 1 and feb["RW05"].voided_deposits == 1
    assert feb["RW05"].deposit_value_idr == 3250 - 20000
    assert feb["RW05"].savings_owed_idr == a.savings_owed_idr + 3250 - 20000


# --- documents ---------------------------------------------------------------------------------


def test_pdf_unicode_many_pages_totals_readable(app, net):
    agg = create_aggregator("UNI", "Yayasan Ñusantara Łestari")
    unicode_name = "Bank Sampah Ñoño Đặng Łukasz — Čempaka Ωmega Жасмин"
    units = [create_unit("UX00", unicode_name, aggregator=agg)]
    units += [create_unit(f"UX{i:02d}", f"Bank Sampah Unit {i:02d}", aggregator=agg) for i in range(1, 45)]
    for u in units[:3]:
        from wastebank.services.catalog import set_price
        for code in ("PET-CLEAN", "CARDBOARD"):
            set_price(u.id, net.categories[code], 3000, 4000, at(2024, 1, 1).date())
        member = create_member(u, "Warga")
        deposit(u, member, [("PET-CLEAN", "12,345"), ("CARDBOARD", "7")], at(2025, 3, 5))
    db.session.commit()
    st = aggregator_statement(agg, 2025, 3)
    total = st.total.deposit_value_idr
    assert total == 3 * (37035 + 21000)
    data = statement_pdf(st, "id")
    assert data.startswith(b"%PDF") and data == statement_pdf(st, "id")  # deterministic
    body, pages = pdf_text(data)
    assert pages >= 3
    flat = " ".join(body.split())
    assert unicode_name in flat
    assert "Rp 174.105" in flat  # the total deposit value, Indonesian format
    assert "Total" in flat


def test_csv_same_figures_and_formula_injection_neutralised(app, net):
    agg = create_aggregator("CSV", "Agg CSV")
    names = ["=HYPERLINK(\"http://evil\",\"x\")", "+SUM(A1:A2)", "-2+3", "@cmd", "Normal"]
    units = [create_unit(f"CS{i}", name, aggregator=agg) for i, name in enumerate(names)]
    from wastebank.services.catalog import set_price
    set_price(units[0].id, net.categories["PET-CLEAN"], 3250, 4500, at(2024, 1, 1).date())
    deposit(units[0], create_member(units[0], "=1+1"), [("PET-CLEAN", "2")], at(2025, 4, 1))
    db.session.commit()
    st = aggregator_statement(agg, 2025, 4)
    raw = statement_csv(st).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    header, body = rows[0], rows[1:]
    by_code = {r[1]: r for r in body}
    for i, name in enumerate(names):
        cell = by_code[f"CS{i}"][2]
        if name == "Normal":
            assert cell == "Normal"
        else:
            assert cell == "'" + name
    assert body[-1][1] == "TOTAL"
    value_col = header.index("deposit_value_idr")
    assert by_code["CS0"][value_col] == "6500" and body[-1][value_col] == "6500"
    assert ',6500,' in raw and '"6500"' not in raw  # numbers are written unquoted
    assert safe_cell(-5) == -5 and safe_cell("-5") == "'-5"
    assert safe_cell("\tTab") == "'\tTab" and safe_cell("\rCR") == "'\rCR"  # unit names are stripped


def test_json_matches_csv_and_pdf_figures(books):
    st = aggregator_statement(_jkt(), 2025, 1)
    body = statement_json(st)
    assert body["month"] == "2025-01" and body["active_member_min_deposits"] == 4
    assert body["total"]["deposit_value_idr"] == st.total.deposit_value_idr
    assert [u["unit"] for u in body["units"]] == ["RW05", "RW07"]
    rows = list(csv.reader(io.StringIO(statement_csv(st).decode("utf-8-sig"))))
    col = rows[0].index("savings_owed_idr")
    assert int(rows[-1][col]) == body["total"]["savings_owed_idr"]


# --- API, screens, CLI, scope ------------------------------------------------------------------


def test_api_statement_for_aggregator_staff(books, client, login):
    login("agg")
    response = client.get("/api/v1/statements/aggregator/JKT/2025-01")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"]["deposit_value_idr"] == aggregator_statement(_jkt(), 2025, 1).total.deposit_value_idr
    bad = client.get("/api/v1/statements/aggregator/JKT/2025-13")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_month"
    missing = client.get("/api/v1/statements/aggregator/NOPE/2025-01")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "aggregator_not_found"
    assert "/api/v1/statements/aggregator/{code}/{month}" in client.get("/api/v1/openapi.json").get_json()["paths"]


@pytest.mark.parametrize("username, status", [("op_a", 403), ("mgr_a", 403), ("collab", 403), ("admin", 200)])
def test_api_statement_roles(books, client, login, username, status):
    login(username)
    assert client.get("/api/v1/statements/aggregator/JKT/2025-01").status_code == status


def test_api_statement_anonymous_is_401(books, client):
    response = client.get("/api/v1/statements/aggregator/JKT/2025-01")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_aggregator_staff_never_see_another_aggregators_units(books, client, login):
    other = create_aggregator("BDG", "Yayasan Bandung")
    unit = create_unit("BD01", "Bank Sampah Bandung Satu", aggregator=other)
    create_user("agg_bdg", "aggregator_staff", PASSWORD, aggregator=other)
    create_member(unit, "Warga Bandung")
    db.session.commit()
    login("agg_bdg")
    for url in ("/api/v1/statements/aggregator/JKT/2025-01", "/statements/aggregator/JKT/2025-01.pdf",
                "/statements/aggregator/JKT/2025-01.csv", "/statements?aggregator=JKT&month=2025-01",
                "/reports/unit?unit=RW05", "/reports/unit/active.csv?unit=RW05"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Melati" not in response.data and b"Mawar" not in response.data  # (the URL itself is echoed)
    own = client.get("/api/v1/statements/aggregator/BDG/2025-01").get_json()
    assert [u["unit"] for u in own["units"]] == ["BD01"]
    page = client.get("/statements?month=2025-01")
    assert page.status_code == 200 and b"BD01" in page.data and b"RW05" not in page.data
    csv_body = client.get("/statements/aggregator/BDG/2025-01.csv").data
    assert b"BD01" in csv_body and b"RW05" not in csv_body and b"RW07" not in csv_body


def test_statement_screen_downloads(books, client, login):
    login("agg")
    page = client.get("/statements?month=2025-01")
    assert page.status_code == 200
    assert b"/statements/aggregator/JKT/2025-01.pdf" in page.data
    pdf = client.get("/statements/aggregator/JKT/2025-01.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text_body, _pages = pdf_text(pdf.data)
    total = aggregator_statement(_jkt(), 2025, 1).total.deposit_value_idr
    assert f"Rp {total:,}".replace(",", ".") in " ".join(text_body.split())
    csv_resp = client.get("/statements/aggregator/JKT/2025-01.csv")
    assert csv_resp.status_code == 200 and csv_resp.data.startswith(b"\xef\xbb\xbf")
    assert csv_resp.data.decode("utf-8-sig").startswith('"Bulan";"Unit";')
    codes = client.get("/statements/aggregator/JKT/2025-01.csv?format=codes")
    assert codes.data.decode("utf-8-sig").startswith('"month","unit",')
    assert client.get("/statements/aggregator/JKT/2025-1.pdf").status_code == 404


def test_cli_writes_pdf_and_csv(books, app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["statement", "aggregator", "JKT", "2025-01", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "out" / "statement-JKT-2025-01.pdf").read_bytes()
    csv_text = (tmp_path / "out" / "statement-JKT-2025-01.csv").read_text(encoding="utf-8-sig")
    assert pdf.startswith(b"%PDF") and "TOTAL" in csv_text
    bad = runner.invoke(args=["statement", "aggregator", "JKT", "January", "--out", str(tmp_path)])
    assert bad.exit_code == 1


def test_statements_built_once_give_each_scope_its_own_figures(books):
    """The statement's queries are built once per process (``prepared``) and reused with other
    units and months as bind parameters: each statement through the shared queries equals the
    same statement built afresh (the cache emptied), and they differ where their units and
    months do, so no call gets another's units, month or threshold."""
    from wastebank.services import transaction

    a, b = books.unit_a.id, books.unit_b.id
    asks = [(1, [a]), (1, [b]), (1, None), (2, [a]), (2, [a, b]), (1, []), (2, [b]), (1, [a])]
    shared = [statement_json(aggregator_statement(_jkt(), 2025, month, unit_ids=ids)) for month, ids in asks]
    assert any(name.startswith("figures.deposits:") for name, _ in transaction._PREPARED)
    fresh = []
    for month, ids in asks:
        transaction._PREPARED.clear()
        fresh.append(statement_json(aggregator_statement(_jkt(), 2025, month, unit_ids=ids)))
    assert shared == fresh
    assert shared[0] == shared[7] and shared[2] != shared[4]        # Jan A again; Jan all vs Feb all
    assert shared[0] != shared[1] and shared[0] != shared[3] and shared[5] != shared[0]
    by_code = [{u["unit"]: u for u in st["units"]} for st in shared]
    assert set(by_code[0]) == {"RW05"} and set(by_code[1]) == {"RW07"} and by_code[5] == {}
    assert by_code[0]["RW05"] == by_code[2]["RW05"] and by_code[1]["RW07"] == by_code[2]["RW07"]
    assert by_code[3]["RW05"] == by_code[4]["RW05"] and by_code[3]["RW05"]["deposits"] == 0


def test_period_figures_empty_units(app, net):
    s, e = local_month_bounds(2025, 1)
    figs = period_figures([net.unit_a.id], s, e)
    assert figs[net.unit_a.id].deposits == 0 and figs[net.unit_a.id].members == 0  # registered later
    assert build_statement([], 2025, 1).total.deposit_value_idr == 0
