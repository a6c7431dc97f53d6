"""The manager's and operator's HTML forms sent twice with the same hidden idempotency_key — a
retry after a lost answer (forms/resilient.js keeps the page and its key), or the browser's own
resend — record once: one member, one sale, one stock adjustment, one reopen of a closed day,
one off-taker, one bulk price save; the second answer shows the first one's record, or says
calmly that it was done (docs/rules.md §idempotency). The new-member form carries a key of its own.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, DayClose, JournalEntry, Member, Offtaker, Price, Sale, User, clock_at
from wastebank.services.cashbook import close_day
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.sales import create_offtaker
from wastebank.services.transaction import run_in_transaction

from .conftest import csrf_token

_KEY = re.compile(r'name="idempotency_key"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="idempotency_key"')


def _key(html: str) -> str:
    match = _KEY.search(html)
    assert match, "no idempotency_key in the form"
    return match.group(1) or match.group(2)


def _count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_new_member_form_sent_twice_with_its_key_registers_one_member(net, client, login):
    login("mgr_a")
    page = client.get("/members/new").get_data(as_text=True)
    key = _key(page)
    data = {"name": "Ibu Tes lost", "kind": "person", "phone": "0812 3456 7001", "address": "Jl. Melati 5",
            "rt": "03", "rw": "05", "idempotency_key": key, "csrf_token": csrf_token(page)}
    first = client.post("/members/new", data=data)
    assert first.status_code == 302
    second = client.post("/members/new", data=data)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _count(Member, Member.name == "Ibu Tes lost") == 1
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Nasabah ini sudah terdaftar; ini datanya." in shown
    # A fresh form has a fresh key: the next member is a new registration.
    other = client.get("/members/new").get_data(as_text=True)
    assert _key(other) != key


def test_new_member_same_key_other_values_opens_the_member_registered_first(net, client, login):
    """Tester, second round: a lost reply, then the phone corrected and "Simpan": it was refused
    with a fresh key, and the next tap registered a second member. Now it opens the member the
    key registered, saying so; saving the corrected form again registers nobody."""
    login("mgr_a")
    page = client.get("/members/new").get_data(as_text=True)
    data = {"name": "Ibu Tes lain", "kind": "person", "idempotency_key": _key(page), "csrf_token": csrf_token(page)}
    first = client.post("/members/new", data=data)
    assert first.status_code == 302
    for _attempt in range(2):
        again = client.post("/members/new", data={**data, "name": "Ibu Tes lain sekali"})
        assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    text = client.get(again.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Nasabah ini sudah terdaftar sebagai RW05-\d{4} sebelum koneksi putus\. Tidak ada yang "
                     r"didaftarkan lagi; perbaiki datanya di sini dengan &#34;Ubah&#34;\.", text)
    assert _count(Member, Member.name.like("Ibu Tes lain%")) == 1


def test_new_member_post_without_key_still_registers(net, client, login):
    """A page shown before the form had a key (or a script) still registers, as before."""
    login("mgr_a")
    page = client.get("/members/new").get_data(as_text=True)
    response = client.post("/members/new", data={"name": "Pak Tanpa Kunci", "kind": "person",
                                                  "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert _count(Member, Member.name == "Pak Tanpa Kunci") == 1


def _stock(net) -> None:
    mgr = db.session.get(User, net.users["mgr_a"].id)
    member = net.members_a[0]
    run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("CARDBOARD", "20")],
                                              operator_id=mgr.id, idempotency_key="same-key-dep-001"))
    db.session.commit()


def _sale_form(net, client, login) -> dict:
    """What the new-sale form posts for 7 kg of cardboard at Rp 2.500 to "Pengepul Koran"
    (stock and buyer set up, the manager logged in), with the form's own key."""
    _stock(net)
    mgr = db.session.get(User, net.users["mgr_a"].id)
    buyer = run_in_transaction(lambda: create_offtaker(net.unit_a, "Pengepul Koran", user=mgr))
    db.session.commit()
    login("mgr_a")
    page = client.get("/manager/sales/new").get_data(as_text=True)
    return {"offtaker": str(buyer.id), "payment": "cash", "note": "", "w-CARDBOARD": "7", "a-CARDBOARD": "",
            "p-CARDBOARD": "2500", "idempotency_key": _key(page), "csrf_token": csrf_token(page),
            "action": "save"}


def test_sale_saved_twice_with_its_key_records_one_sale(net, client, login):
    data = _sale_form(net, client, login)
    before = _count(JournalEntry)
    first = client.post("/manager/sales/new", data=data)
    second = client.post("/manager/sales/new", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _count(Sale, Sale.unit_id == net.unit_a.id) == 1
    assert _count(JournalEntry) == before + 1
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Penjualan ini sudah tersimpan; ini datanya." in shown


def test_a_sale_corrected_after_a_lost_reply_is_not_recorded_a_second_time(net, client, login):
    """Tester, second round: the reply lost, the weight corrected, "Simpan": refused with a
    fresh key, and the next tap recorded a second sale. Now the refusal names the sale saved
    first and keeps the key: saving again is refused again."""
    data = _sale_form(net, client, login)
    assert client.post("/manager/sales/new", data=data).status_code == 302
    sale_no = db.session.scalar(select(Sale.sale_no))
    db.session.rollback()
    for _attempt in range(2):
        again = client.post("/manager/sales/new", data={**data, "w-CARDBOARD": "7,2"})
        text = again.get_data(as_text=True)
        assert again.status_code == 409
        assert (f"Penjualan ini sudah tersimpan ({sale_no}, Rp 17.500) sebelum koneksi putus, dengan isi "
                "sebelumnya. Tidak disimpan lagi") in text
        assert _key(text) == data["idempotency_key"]
    assert _count(Sale, Sale.unit_id == net.unit_a.id) == 1


def test_stock_adjustment_saved_twice_with_its_key_posts_once(net, client, login):
    _stock(net)
    login("mgr_a")
    page = client.get("/manager/stock/adjust").get_data(as_text=True)
    data = {"category": "CARDBOARD", "direction": "out", "quantity": "1,5", "reason": "basah kena hujan",
            "idempotency_key": _key(page), "csrf_token": csrf_token(page)}
    before = _count(JournalEntry)
    assert client.post("/manager/stock/adjust", data=data).status_code == 302
    assert client.post("/manager/stock/adjust", data=data).status_code == 302
    assert _count(JournalEntry) == before + 1
    # Corrected after a lost reply and saved: refused, the key kept, never a second adjustment.
    for _attempt in range(2):
        again = client.post("/manager/stock/adjust", data={**data, "quantity": "2"})
        text = again.get_data(as_text=True)
        assert again.status_code == 422
        assert "Penyesuaian stok ini sudah tersimpan sebelum koneksi putus, dengan isi sebelumnya." in text
        assert _key(text) == data["idempotency_key"]
    assert _count(JournalEntry) == before + 1


# --- the forms that did not carry a key: reopen, off-taker, bulk prices -------------------------
# Their second tap after a lost reply was answered as a refusal ("Hari … belum ditutup", "Pembeli
# ini sudah terdaftar." in red) or as "Tidak ada harga yang berubah." — as if the first tap had
# failed. Now it says what the first tap did, as done, and writes nothing.

NOW = datetime(2025, 4, 10, 15, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def _flashes(client, response) -> list[str]:
    """The ok flashes of the page a redirect leads to, as HTML (a price's date is a ``<time>``)."""
    assert response.status_code == 302, response.status_code
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"' not in html
    return re.findall(r'<p class="flash ok" role="status">(.*?)</p>', html)


#: 10-04-2025 in a price message: kept on one line at 800 px (app.css ``.flash time``).
DAY = '<time datetime="2025-04-10">10-04-2025</time>'


def _audits(action: str) -> int:
    return _count(AuditLog, AuditLog.action == action)


def test_reopen_sent_again_with_its_key_says_the_day_is_open_again_and_reopens_once(net, client, login):
    with clock_at(NOW):
        mgr = db.session.get(User, net.users["mgr_a"].id)
        # Counted Rp 1.000 more than the books: the close posts a difference, the reopen reverses it.
        run_in_transaction(lambda: close_day(net.unit_a, NOW.date(), "1.000", mgr))
        db.session.commit()
        login("mgr_a")
        page = client.get("/manager/cashbook").get_data(as_text=True)
        assert 'id="reopen-form"' in page
        data = {"csrf_token": csrf_token(page), "business_date": "2025-04-10", "reason": "salah  hitung",
                "idempotency_key": _key(page)}
        entries = _count(JournalEntry)
        assert _flashes(client, client.post("/manager/cashbook/reopen", data=data)) == [
            "Hari ini dibuka kembali; loket dapat mencatat lagi. Tutup lagi setelah kas dihitung ulang."]
        said = ("Hari 10-04-2025 sudah dibuka kembali: Anda membukanya pukul 15.00 WIB dengan alasan "
                "“salah hitung”. Tidak ada yang diubah.")
        assert _flashes(client, client.post("/manager/cashbook/reopen", data=data)) == [said]
        # The reason corrected after the lost reply: the same answer, with the reason saved first.
        assert _flashes(client, client.post("/manager/cashbook/reopen", data={**data, "reason": "uang lupa"})) \
            == [said]
        assert _count(DayClose) == 0
        assert _audits("day.reopen") == 1
        assert _count(JournalEntry) == entries + 1  # one reversal of the difference
        assert _count(JournalEntry, JournalEntry.reverses_id.is_not(None)) == 1
        # Without a key (a page shown before keys): the day that is not closed is refused as before.
        refused = client.post("/manager/cashbook/reopen", data={**data, "idempotency_key": ""})
        assert refused.status_code == 409
        assert "Hari 10-04-2025 belum ditutup; tidak ada yang perlu dibuka kembali." in refused.get_data(as_text=True)
        assert _audits("day.reopen") == 1


def test_offtaker_sent_again_with_its_key_is_registered_once(net, client, login):
    with clock_at(NOW):
        login("mgr_a")
        page = client.get("/manager/offtakers").get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "name": "CV Lapak  Sejahtera", "kind": "pengepul",
                "phone": "0812 9999 1111", "address": "Jl. Kenari 2", "idempotency_key": _key(page)}
        assert _flashes(client, client.post("/manager/offtakers", data=data)) == [
            "Pembeli CV Lapak Sejahtera berhasil didaftarkan."]
        assert _flashes(client, client.post("/manager/offtakers", data=data)) == [
            "Pembeli CV Lapak Sejahtera sudah terdaftar: Anda mendaftarkannya pukul 15.00 WIB. "
            "Tidak didaftarkan dua kali."]
        # The phone corrected after the lost reply: named, refused, the key kept (twice).
        for _attempt in range(2):
            again = client.post("/manager/offtakers", data={**data, "phone": "0812 9999 2222"})
            text = again.get_data(as_text=True)
            assert again.status_code == 409
            assert ("Pembeli CV Lapak Sejahtera sudah terdaftar pukul 15.00 WIB sebelum koneksi putus, dengan isi "
                    "yang terkirim pertama. Tidak didaftarkan lagi. Untuk mendaftarkan pembeli lain, buka "
                    "halaman ini lagi.") in text
            assert _key(text) == data["idempotency_key"]
        # The same name from a fresh form (another key) is still refused as registered.
        fresh = client.get("/manager/offtakers").get_data(as_text=True)
        assert _key(fresh) != data["idempotency_key"]
        twin = client.post("/manager/offtakers", data={**data, "idempotency_key": _key(fresh)})
        assert twin.status_code == 422 and "Pembeli ini sudah terdaftar." in twin.get_data(as_text=True)
        (row,) = db.session.scalars(select(Offtaker).where(Offtaker.unit_id == net.unit_a.id)).all()
        assert (row.name, row.phone, row.address) == ("CV Lapak Sejahtera", "0812 9999 1111", "Jl. Kenari 2")
        db.session.rollback()
        assert _audits("offtaker.create") == 1


def test_bulk_prices_sent_again_with_their_key_are_saved_once(net, client, login):
    cardboard = net.categories["CARDBOARD"].id
    with clock_at(NOW):
        login("mgr_a")
        page = client.get("/manager/prices").get_data(as_text=True)
        assert 'name="was-CARDBOARD" value="2000:2600"' in page
        data = {"csrf_token": csrf_token(page), "effective_from": "2025-04-10", "idempotency_key": _key(page),
                "buy-CARDBOARD": "2.100", "sell-CARDBOARD": "2.700", "was-CARDBOARD": "2000:2600"}
        audits = _audits("price.set")
        assert _flashes(client, client.post("/manager/prices", data=data)) == [
            f"1 harga disimpan, berlaku mulai {DAY}."]
        assert _flashes(client, client.post("/manager/prices", data=data)) == [
            f"Harga ini sudah tersimpan pukul 15.00 WIB: 1 harga, berlaku mulai {DAY}. Tidak disimpan lagi."]
        # Another figure typed after the lost reply: named, refused, the key kept (twice).
        for _attempt in range(2):
            again = client.post("/manager/prices", data={**data, "buy-CARDBOARD": "2.200"})
            text = again.get_data(as_text=True)
            assert again.status_code == 422
            assert ("Harga dari formulir ini sudah tersimpan pukul 15.00 WIB sebelum koneksi putus (1 harga, "
                    f"berlaku mulai {DAY}), dengan isi sebelumnya. Tidak disimpan lagi") in text
            assert _key(text) == data["idempotency_key"]
        rows = db.session.execute(select(Price.buy_price_idr, Price.sell_price_idr).where(
            Price.unit_id == net.unit_a.id, Price.category_id == cardboard,
            Price.effective_from == date(2025, 4, 10))).all()
        db.session.rollback()
        assert rows == [(2100, 2700)]
        assert _audits("price.set") == audits + 1


def _day_prices(unit_id: int, category_id: int, day: date) -> list[tuple[int, int]]:
    rows = db.session.execute(select(Price.buy_price_idr, Price.sell_price_idr).where(
        Price.unit_id == unit_id, Price.category_id == category_id, Price.effective_from == day)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def test_category_price_sent_again_with_its_key_is_saved_once(net, client, login):
    """One category's form (/manager/prices/<CODE>) had no key: the second tap after a lost
    reply replaced the same day's price again and wrote a second ``price.set`` audit row. Now it
    says, as done, what the first tap saved, and writes nothing."""
    pet = net.categories["PET-CLEAN"].id
    with clock_at(NOW):
        login("mgr_a")
        page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "buy": "3.700", "sell": "4.900", "effective_from": "2025-04-10",
                "idempotency_key": _key(page)}
        audits = _audits("price.set")
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data=data)) == [
            f"Harga baru Botol PET bening bersih disimpan: beli Rp 3.700, jual Rp 4.900 per kg, mulai {DAY}."]
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data=data)) == [
            "Harga baru Botol PET bening bersih sudah tersimpan pukul 15.00 WIB: beli Rp 3.700, jual Rp 4.900 "
            f"per kg, mulai {DAY}. Tidak disimpan lagi."]
        assert _day_prices(net.unit_a.id, pet, date(2025, 4, 10)) == [(3700, 4900)]
        assert _audits("price.set") == audits + 1
        # Another figure typed after the lost reply: named, refused, the key kept (twice).
        for _attempt in range(2):
            again = client.post("/manager/prices/PET-CLEAN", data={**data, "buy": "3.800"})
            text = again.get_data(as_text=True)
            assert again.status_code == 422
            assert ('<p class="error" role="alert">Harga dari formulir ini sudah tersimpan pukul 15.00 WIB sebelum '
                    "koneksi putus (Botol PET bening bersih: beli Rp 3.700, jual Rp 4.900 per kg, mulai "
                    f"{DAY}), dengan isi sebelumnya. Tidak disimpan lagi: periksa riwayat harga di bawah, lalu buka "
                    "halaman ini lagi untuk perubahan lain.</p>") in text
            assert _key(text) == data["idempotency_key"]
            assert 'value="3.800"' in text  # what was typed stays
        assert _day_prices(net.unit_a.id, pet, date(2025, 4, 10)) == [(3700, 4900)]
        assert _audits("price.set") == audits + 1
        # A fresh form without a sell price: the repeat says so, as the first answer does.
        page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
        assert _key(page) != data["idempotency_key"]
        unset = {**data, "buy": "3400", "sell": "", "idempotency_key": _key(page)}
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data=unset)) == [
            "Harga baru Botol PET bening bersih disimpan: beli Rp 3.400 per kg, harga jual belum diisi, "
            f"mulai {DAY}."]
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data=unset)) == [
            "Harga baru Botol PET bening bersih sudah tersimpan pukul 15.00 WIB: beli Rp 3.400 per kg, harga jual "
            f"belum diisi, mulai {DAY}. Tidak disimpan lagi."]
        assert _day_prices(net.unit_a.id, pet, date(2025, 4, 10)) == [(3400, 0)]
        assert _audits("price.set") == audits + 2
        # In English the clock keeps its colon.
        client.post("/lang/en", data={"csrf_token": csrf_token(page)})
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data=unset)) == [
            "The new price of PET bottle, clear, clean was already saved at 15:00 WIB: buy Rp 3,400 per kg, no sell "
            f"price yet, from {DAY}. Nothing was saved again."]
        assert _audits("price.set") == audits + 2
        # Without a key (a page shown before keys): saved as before, the same day's price replaced.
        assert _flashes(client, client.post("/manager/prices/PET-CLEAN", data={**data, "idempotency_key": ""})) \
            == [f"New price of PET bottle, clear, clean saved: buy Rp 3,700, sell Rp 4,900 per kg, from {DAY}."]
        assert _day_prices(net.unit_a.id, pet, date(2025, 4, 10)) == [(3700, 4900)]
        assert _audits("price.set") == audits + 3
