"""Stock ledger and sales to off-takers, with exact rupiah and grams (issue 4 items 3–4).

The month scenario (``test_month_of_business_adds_up``) runs a unit through deposits at two
prices, two withdrawals, two voids, a sale with a re-weigh difference and a daily close, and
checks every account against a hand calculation written out in the comments.
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from wastebank.documents.sale_note import SaleNoteData, SaleNoteLine, render_sale_note
from wastebank.extensions import db
from wastebank.models import (Account, AuditLog, Deposit, JournalEntry, Posting, Sale, SaleLine, User, Withdrawal,
                              clock_at)
from wastebank.services.cashbook import close_day
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import IdempotencyConflict, InsufficientStock, PeriodClosed, ValidationFailed
from wastebank.services.ledger import stock_account, verify_ledger
from wastebank.services.sales import SaleLineInput, create_offtaker, list_offtakers, record_sale
from wastebank.services.stock import adjust_stock, cost_of, stock_on_hand, stock_row
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal, void_deposit, void_withdrawal

WIB = ZoneInfo("Asia/Jakarta")


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in March 2025, Jakarta time."""
    return datetime(2025, 3, day, hour, minute, tzinfo=WIB)


def _deposit(net, member, lines, key):
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput(c, q) for c, q in lines],
                                                     operator_id=net.users["op_a"].id, idempotency_key=key))


def _user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def _sale(net, offtaker, lines, key, payment="cash", user="mgr_a"):
    return run_in_transaction(lambda: record_sale(
        net.unit_a, offtaker, [SaleLineInput(*line) for line in lines], payment, user=_user(net, user),
        idempotency_key=key))


def _balances(unit_id) -> dict[str, tuple[int, int]]:
    return {a.key: (a.balance, a.quantity_milli)
            for a in db.session.scalars(select(Account).where(Account.unit_id == unit_id))}


def _counts():
    return tuple(db.session.scalar(select(func.count(model.id)))
                 for model in (JournalEntry, Posting, Sale, SaleLine, AuditLog))


def _offtaker(net, name="CV Daur Ulang Jaya"):
    return run_in_transaction(lambda: create_offtaker(net.unit_a, name, kind="pengepul", phone="0812 1111 2222",
                                                      user=_user(net, "mgr_a")))


def test_month_of_business_adds_up(net):
    unit = net.unit_a
    unit.fee_bp = 500  # 5 % fee withheld from each deposit, half up on the deposit total
    db.session.commit()
    m0, m1, m2 = net.members_a
    pet, card = net.categories["PET-CLEAN"], net.categories["CARDBOARD"]
    mgr = _user(net, "mgr_a")

    # Prices at RW05: PET-CLEAN buy Rp 3.250/kg, CARDBOARD buy Rp 2.000/kg (factories);
    # PET-CLEAN rises to Rp 3.500/kg from 5 March.
    set_price(unit.id, pet, 3500, 4500, date(2025, 3, 5))
    db.session.commit()

    with clock_at(at(3)):
        # D1 m0 PET 10 kg × 3.250 = 32.500; fee 1.625; credited 30.875
        _deposit(net, m0, [("PET-CLEAN", "10")], "month-dep-01")
        # D2 m1 CARDBOARD 25,5 kg × 2.000 = 51.000; fee 2.550; credited 48.450
        _deposit(net, m1, [("CARDBOARD", "25,5")], "month-dep-02")
    with clock_at(at(4)):
        # D3 m2 PET 4,25 kg × 3.250 = 13.812,5 → 13.813; fee 690,65 → 691; credited 13.122
        _deposit(net, m2, [("PET-CLEAN", "4,25")], "month-dep-03")
        # D4 m0 CARDBOARD 12 kg × 2.000 = 24.000; fee 1.200; credited 22.800
        _deposit(net, m0, [("CARDBOARD", "12")], "month-dep-04")
    with clock_at(at(5)):
        # D5 m1 PET 6 kg × 3.500 (new price) = 21.000; fee 1.050; credited 19.950
        _deposit(net, m1, [("PET-CLEAN", "6")], "month-dep-05")
        # D6 m2 CARDBOARD 3 kg × 2.000 = 6.000; fee 300; credited 5.700 — then voided (void 1):
        # stock −3 kg −6.000, savings −5.700, fee −300.
        d6 = _deposit(net, m2, [("CARDBOARD", "3")], "month-dep-06")
        void1 = run_in_transaction(lambda: void_deposit(db.session.get(Deposit, d6.body["id"]), user=mgr,
                                                        reason="salah anggota", idempotency_key="month-void-1"))
        assert void1.status == 200
    with clock_at(at(6)):
        # W1 m0 cash 20.000; W2 m1 cash 15.000, voided (void 2): cash and savings back.
        assert run_in_transaction(lambda: record_withdrawal(unit, m0, WithdrawalInput("cash", "20.000"),
                                                            user=_user(net, "op_a"),
                                                            idempotency_key="month-wd-01")).status == 201
        w2 = run_in_transaction(lambda: record_withdrawal(unit, m1, WithdrawalInput("cash", 15000),
                                                          user=_user(net, "op_a"), idempotency_key="month-wd-02"))
        void2 = run_in_transaction(lambda: void_withdrawal(db.session.get(Withdrawal, w2.body["id"]), user=mgr,
                                                           reason="dobel bayar", idempotency_key="month-void-2"))
        assert void2.status == 200

    # Stock before the sale:
    #   PET-CLEAN  10.000 + 4.250 + 6.000 = 20.250 g, value 32.500 + 13.813 + 21.000 = 67.313
    #   CARDBOARD  25.500 + 12.000 + 3.000 − 3.000 = 37.500 g, value 51.000 + 24.000 = 75.000
    assert (stock_row(unit.id, pet).quantity_milli, stock_row(unit.id, pet).value_idr) == (20250, 67313)
    assert (stock_row(unit.id, card).quantity_milli, stock_row(unit.id, card).value_idr) == (37500, 75000)
    assert stock_row(unit.id, pet).average_cost_idr == 3324  # 67.313 / 20,25 kg = 3.324,1 → 3.324/kg

    with clock_at(at(7, 10)):
        buyer = _offtaker(net)
        # Sale, cash: PET weighed 15 kg, buyer accepts 14,6 kg at Rp 4.500/kg;
        #             CARDBOARD weighed 30 kg, all accepted at Rp 2.600/kg.
        # PET cost of 15 kg   = 15.000 × 67.313 / 20.250 = 49.861,48 → 49.861
        #     shrinkage 0,4 kg = 400 × 67.313 / 20.250 = 1.329,64 → 1.330 (to stock write-offs)
        #     value 14,6 × 4.500 = 65.700
        # CARDBOARD cost 30 kg = 30.000 × 75.000 / 37.500 = 60.000; value 30 × 2.600 = 78.000
        # total value 143.700; cost 109.861; shrinkage 1.330;
        # margin = 143.700 − (109.861 − 1.330) = 35.169
        sale = _sale(net, buyer, [("PET-CLEAN", "15", "14,6", "4.500"), ("CARDBOARD", "30", "", "2600")],
                     "month-sale-01")
    assert sale.status == 201
    body = sale.body
    assert (body["total_idr"], body["cost_idr"], body["shrinkage_idr"], body["margin_idr"]) == \
        (143700, 109861, 1330, 35169)
    assert [(l["category"], l["weighed_milli"], l["accepted_milli"], l["amount_idr"], l["cost_idr"])
            for l in body["lines"]] == [("PET-CLEAN", 15000, 14600, 65700, 49861),
                                        ("CARDBOARD", 30000, 30000, 78000, 60000)]
    assert body["sale_no"] == "RW05-2025-000009"  # 6 deposits, 2 withdrawals, then the sale
    entry = db.session.get(JournalEntry, body["entry_id"])
    assert sorted(p.amount for p in entry.postings) == sorted([-49861, -60000, 1330, 143700, -35169])

    with clock_at(at(7, 17)):
        # Cash: −20.000 − 15.000 + 15.000 (void) + 143.700 (sale) = 123.700 expected.
        # Counted 123.500: Rp 200 short → Dr cash adjustments 200 / Cr cash 200.
        closed = run_in_transaction(lambda: close_day(unit, date(2025, 3, 7), "123.500", _user(net, "mgr_a")))
        assert (closed.expected_cash_idr, closed.counted_cash_idr, closed.difference_idr) == (123700, 123500, -200)

    balances = _balances(unit.id)
    # Savings: m0 30.875 + 22.800 − 20.000 = 33.675; m1 48.450 + 19.950 − 15.000 + 15.000 = 68.400;
    #          m2 13.122 + 5.700 − 5.700 = 13.122.
    assert balances[f"savings:{m0.id}"] == (33675, 0)
    assert balances[f"savings:{m1.id}"] == (68400, 0)
    assert balances[f"savings:{m2.id}"] == (13122, 0)
    # Fee income: 1.625 + 2.550 + 691 + 1.200 + 1.050 + 300 − 300 = 7.116
    assert balances["fee_income"] == (7116, 0)
    # Stock after the sale: PET 20.250 − 15.000 = 5.250 g worth 67.313 − 49.861 = 17.452;
    #                       CARDBOARD 37.500 − 30.000 = 7.500 g worth 75.000 − 60.000 = 15.000
    assert balances[f"stock:{pet.id}"] == (17452, 5250)
    assert balances[f"stock:{card.id}"] == (15000, 7500)
    assert balances["cash"] == (123500, 0)
    assert balances["trading_margin"] == (35169, 0)
    assert balances["stock_writeoff"] == (1330, 0)
    assert balances["cash_adjustment"] == (200, 0)
    assert balances.get("receivable", (0, 0)) == (0, 0)
    # Debit side (assets + expenses) = credit side (savings + income):
    # 123.500 + 17.452 + 15.000 + 1.330 + 200 = 157.482 = 33.675 + 68.400 + 13.122 + 7.116 + 35.169
    assert 123500 + 17452 + 15000 + 1330 + 200 == 33675 + 68400 + 13122 + 7116 + 35169 == 157482

    # Stock at cost equals its postings, value and quantity.
    for category in (pet, card):
        account = stock_account(unit.id, category.id)
        value, quantity = db.session.execute(
            select(func.sum(Posting.amount), func.sum(Posting.quantity_milli)).where(Posting.account_id == account.id)
        ).one()
        assert (int(value), int(quantity)) == (account.balance, account.quantity_milli)
    assert verify_ledger().ok, verify_ledger().faults

    # The closed day takes no more postings; the next day does.
    with clock_at(at(7, 18)):
        before = _counts()
        with pytest.raises(PeriodClosed):
            _deposit(net, m0, [("PET-CLEAN", "1")], "month-dep-late")
        assert _counts() == before
    with clock_at(at(8)):
        assert _deposit(net, m0, [("PET-CLEAN", "1")], "month-dep-late").status == 201

    # Every money and stock movement left an audit row.
    actions = [a for (a,) in db.session.execute(select(AuditLog.action).where(AuditLog.unit_id == unit.id))]
    assert actions.count("deposit.record") == 7
    assert actions.count("withdrawal.pay") == 2
    assert {"void.deposit", "void.withdrawal", "sale.record", "day.close", "offtaker.create"} <= set(actions)


def test_sale_of_more_than_in_stock_is_refused_and_changes_nothing(net):
    _deposit(net, net.members_a[0], [("PET-CLEAN", "2")], "over-dep-01")  # 2 kg, Rp 6.500
    buyer = _offtaker(net)
    before_balances, before_counts = _balances(net.unit_a.id), _counts()
    with pytest.raises(InsufficientStock) as err:
        _sale(net, buyer, [("PET-CLEAN", "2,001", "2", "4500")], "over-sale-01")
    assert "2,001 kg" in str(err.value.message) and "2 kg" in str(err.value.message)
    # Two lines of one category together exceed the stock, too.
    with pytest.raises(InsufficientStock):
        _sale(net, buyer, [("PET-CLEAN", "1,5", "", "4500"), ("PET-CLEAN", "1", "", "4500")], "over-sale-02")
    with pytest.raises(InsufficientStock):  # nothing of this category at all
        _sale(net, buyer, [("CARDBOARD", "1", "", "2600")], "over-sale-03")
    assert _balances(net.unit_a.id) == before_balances
    assert _counts() == before_counts
    assert db.session.scalar(select(func.max(Account.quantity_milli))) == 2000


def test_sale_on_credit_with_loss_and_full_rejection(net):
    # 3 kg CARDBOARD at Rp 2.000 = 6.000 at cost.
    _deposit(net, net.members_a[0], [("CARDBOARD", "3")], "credit-dep-01")
    buyer = _offtaker(net, "Bank Sampah Induk Jakarta")
    # Weighed 3 kg (cost 6.000): accepted 2 kg at Rp 1.500 = 3.000; 1 kg shrinkage at cost 2.000.
    # margin = 3.000 − (6.000 − 2.000) = −1.000 → Dr trading margin 1.000.
    sale = _sale(net, buyer, [("CARDBOARD", "3", "2", "1.500")], "credit-sale-01", payment="credit")
    assert (sale.body["total_idr"], sale.body["cost_idr"], sale.body["shrinkage_idr"], sale.body["margin_idr"]) \
        == (3000, 6000, 2000, -1000)
    balances = _balances(net.unit_a.id)
    assert balances["receivable"] == (3000, 0)
    assert balances["cash"] == (0, 0)
    assert balances["trading_margin"] == (-1000, 0)
    assert balances["stock_writeoff"] == (2000, 0)
    assert balances[f"stock:{net.categories['CARDBOARD'].id}"] == (0, 0)
    # A second deposit, then the buyer rejects everything weighed: all cost is shrinkage, value 0.
    _deposit(net, net.members_a[0], [("CARDBOARD", "1,25")], "credit-dep-02")  # 1,25 kg → Rp 2.500
    nothing = _sale(net, buyer, [("CARDBOARD", "1,25", "0", "0")], "credit-sale-02")
    assert (nothing.body["total_idr"], nothing.body["shrinkage_idr"], nothing.body["margin_idr"]) == (0, 2500, 0)
    assert _balances(net.unit_a.id)["stock_writeoff"] == (4500, 0)
    assert verify_ledger().ok


def test_sale_is_idempotent_and_validated(net):
    _deposit(net, net.members_a[0], [("PET-CLEAN", "10")], "idem-dep-01")  # 10 kg, Rp 32.500
    buyer = _offtaker(net)
    first = _sale(net, buyer, [("PET-CLEAN", "4", "4", "4500")], "idem-sale-01")
    again = _sale(net, buyer, [("PET-CLEAN", "4,0", "4.000", "4.500")], "idem-sale-01")
    assert again.replayed and again.body == first.body
    assert db.session.scalar(select(func.count(Sale.id))) == 1
    assert stock_row(net.unit_a.id, net.categories["PET-CLEAN"]).quantity_milli == 6000
    with pytest.raises(IdempotencyConflict):
        _sale(net, buyer, [("PET-CLEAN", "5", "5", "4500")], "idem-sale-01")
    with pytest.raises(ValidationFailed) as err:
        _sale(net, buyer, [("PET-CLEAN", "1", "2", "4500")], "idem-sale-02")
    assert err.value.errors["lines.0.accepted"][0] == "over_weighed"
    with pytest.raises(ValidationFailed) as err:
        _sale(net, buyer, [("NOPE", "1", "", "4500"), ("PET-CLEAN", "1.500,5", "", "x")], "idem-sale-03")
    assert set(err.value.errors) == {"lines.0.category", "lines.1.weighed"}
    with pytest.raises(ValidationFailed):
        _sale(net, buyer, [("PET-CLEAN", "1", "", "x")], "idem-sale-04")
    with pytest.raises(ValidationFailed):
        _sale(net, buyer, [], "idem-sale-05")
    assert db.session.scalar(select(func.count(Sale.id))) == 1
    # Another unit's off-taker cannot be used.
    other = run_in_transaction(lambda: create_offtaker(net.unit_b, "Pengepul RW07"))
    from wastebank.services.errors import DomainError
    with pytest.raises(DomainError):
        _sale(net, other, [("PET-CLEAN", "1", "", "4500")], "idem-sale-06")
    assert [o.name for o in list_offtakers(net.unit_a.id)] == ["CV Daur Ulang Jaya"]


def test_offtaker_registry_refuses_duplicates_and_blanks(net):
    _offtaker(net)
    with pytest.raises(ValidationFailed):
        _offtaker(net)
    with pytest.raises(ValidationFailed):
        run_in_transaction(lambda: create_offtaker(net.unit_a, "  "))
    with pytest.raises(ValidationFailed):
        run_in_transaction(lambda: create_offtaker(net.unit_a, "X", kind="bank"))
    assert len(list_offtakers(net.unit_a.id)) == 1


def test_write_off_and_found_stock_at_average_cost(net):
    pet = net.categories["PET-CLEAN"]
    mgr = _user(net, "mgr_a")
    # 1,5 kg → 4.875 and 2 kg → 6.500: 3.500 g worth 11.375 (3.250/kg).
    _deposit(net, net.members_a[0], [("PET-CLEAN", "1,5")], "adj-dep-01")
    _deposit(net, net.members_a[1], [("PET-CLEAN", "2")], "adj-dep-02")
    # Write off 0,333 kg: 333 × 11.375 / 3.500 = 1.082,25 → 1.082
    out = run_in_transaction(lambda: adjust_stock(net.unit_a, pet, -333, "basah, dibuang", mgr,
                                                  idempotency_key="adj-key-0001"))
    assert out.body["amount_idr"] == -1082 and out.body["quantity_after_milli"] == 3167
    assert out.body["value_after_idr"] == 11375 - 1082 == 10293
    replay = run_in_transaction(lambda: adjust_stock(net.unit_a, pet, -333, "basah, dibuang", mgr,
                                                     idempotency_key="adj-key-0001"))
    assert replay.replayed and stock_row(net.unit_a.id, pet).quantity_milli == 3167
    # Found 0,1 kg: 100 × 10.293 / 3.167 = 325,01 → 325 at current average cost.
    found = run_in_transaction(lambda: adjust_stock(net.unit_a, pet, 100, "ditemukan di gudang", mgr))
    assert found.body["amount_idr"] == 325
    balances = _balances(net.unit_a.id)
    assert balances[f"stock:{pet.id}"] == (10618, 3267)
    assert balances["stock_writeoff"] == (1082 - 325, 0)
    # Write-off beyond stock is refused and changes nothing.
    before, counts = _balances(net.unit_a.id), _counts()
    with pytest.raises(InsufficientStock) as err:
        run_in_transaction(lambda: adjust_stock(net.unit_a, pet, -3268, "hilang", mgr))
    assert "3,268 kg" in str(err.value.message) and "3,267 kg" in str(err.value.message)
    assert _balances(net.unit_a.id) == before and _counts() == counts
    # A reason is required; writing off everything takes exactly the value left.
    with pytest.raises(ValidationFailed):
        run_in_transaction(lambda: adjust_stock(net.unit_a, pet, -1, " ", mgr))
    everything = run_in_transaction(lambda: adjust_stock(net.unit_a, pet, -3267, "kebakaran gudang", mgr))
    assert everything.body["amount_idr"] == -10618
    assert _balances(net.unit_a.id)[f"stock:{pet.id}"] == (0, 0)
    # Found stock in an empty account is valued at the current buy price (Rp 3.250/kg).
    refill = run_in_transaction(lambda: adjust_stock(net.unit_a, pet, 200, "stok lama tercatat", mgr))
    assert refill.body["amount_idr"] == 650
    assert verify_ledger().ok
    rows = {r.category.code: r for r in stock_on_hand(net.unit_a.id)}
    assert list(rows) == ["PET-CLEAN"] and rows["PET-CLEAN"].value_idr == 650
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "stock.adjust")).all()
    assert len(audit) == 4 and all(a.user_id == mgr.id for a in audit)


def test_cost_of_rounds_half_up_and_takes_all_value_at_the_end():
    assert cost_of(1, 2, 3) == 2          # 1,5 → 2
    assert cost_of(1, 3, 4) == 1          # 1,33 → 1
    assert cost_of(7, 7, 12345) == 12345
    with pytest.raises(InsufficientStock):
        cost_of(8, 7, 100)


def test_sale_note_pdf_text():
    data = SaleNoteData(
        title="NOTA PENJUALAN", unit_name="Bank Sampah Melati RW 05", unit_address="Jl. Melati No. 5",
        details=(("Nomor", "RW05-2025-000009"), ("Tanggal", "07-03-2025 10.00 WIB"),
                 ("Pengepul", "CV Đặng Łukasz Jaya"), ("Pembayaran", "Tunai")),
        headings=("Jenis", "Ditimbang", "Diterima", "Selisih", "Harga", "Jumlah"),
        lines=(SaleNoteLine("Botol PET bening bersih", "15 kg", "14,6 kg", "0,4 kg", "Rp 4.500/kg", "Rp 65.700"),
               SaleNoteLine("Kardus", "30 kg", "30 kg", "0 kg", "Rp 2.600/kg", "Rp 78.000")),
        totals=(("Total", "Rp 143.700"),), signatures=("Penjual", "Pembeli"))
    pdf = render_sale_note(data)
    assert pdf == render_sale_note(data)  # deterministic
    reader = PdfReader(__import__("io").BytesIO(pdf))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (420, 595)  # A5
    text = page.extract_text()
    for expected in ("NOTA PENJUALAN", "RW05-2025-000009", "CV Đặng Łukasz Jaya", "14,6 kg", "0,4 kg",
                     "Rp 65.700", "Rp 143.700", "Pembeli"):
        assert expected in text, expected
