"""A tester's small finds (F10), as the pages show them in Indonesian:
- the paid withdrawal's receipt page had a button "Penarikan belum selesai" (the list of open
  withdrawals) that read as if this withdrawal were unfinished: it is now "Daftar penarikan yang
  belum selesai";
- the audit screen's action filter listed "Tutup buku dibuka kembali" twice (a closed day
  reopened and a closed month unlocked had the same Indonesian label): each label is now one
  action's and appears once;
- the audit screen's links used the browser's blue: tests/test_browser_tester_f10.py checks
  the colour in a browser.
"""
from __future__ import annotations

import re

from flask_babel import force_locale

from wastebank.services.audit import ACTION_LABELS

from .test_withdrawal_screens import deposit, withdraw_service


def text_of(response) -> str:
    """The page's text without tags (whitespace collapsed), as a person reads it."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_action_has_its_own_label_in_both_languages(app):
    with app.test_request_context():
        for locale in ("id", "en"):
            with force_locale(locale):
                labels = [str(label) for label in ACTION_LABELS.values()]
            duplicates = sorted({label for label in labels if labels.count(label) > 1})
            assert duplicates == [], (locale, duplicates)
        with force_locale("id"):
            assert str(ACTION_LABELS["day.reopen"]) == "Tutup buku harian dibuka kembali"
            assert str(ACTION_LABELS["month.unlock"]) == "Tutup buku bulan dibuka kembali"
            assert str(ACTION_LABELS["day.close"]) == "Tutup buku harian"
            assert str(ACTION_LABELS["month.lock"]) == "Tutup buku bulan"


def test_the_audit_filter_lists_each_label_once(net, client, login):
    login("mgr_a")
    page = client.get("/manager/audit").get_data(as_text=True)
    select = page[page.index('<select name="action">'):page.index("</select>", page.index('<select name="action">'))]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', select)
    labels = [label for _code, label in options]
    assert len(labels) == len(set(labels)) == len(ACTION_LABELS) + 1     # + "Semua tindakan"
    assert labels.count("Tutup buku dibuka kembali") == 0
    by_code = dict(options)
    assert by_code["day.reopen"] == "Tutup buku harian dibuka kembali"
    assert by_code["month.unlock"] == "Tutup buku bulan dibuka kembali"
    # Choosing one still filters by its code.
    assert client.get("/manager/audit?action=month.unlock").status_code == 200


def test_the_paid_withdrawals_page_names_the_list_not_this_withdrawal(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-f10-0001")
    paid = withdraw_service(net, member, 4000, "wd-f10-paid1")
    assert paid.body["status"] == "paid"
    login("op_a")
    response = client.get(f"/counter/withdrawal/{paid.body['id']}")
    html, page = response.get_data(as_text=True), text_of(response)
    assert re.search(r'<a class="button secondary" id="open-withdrawals" href="/counter/withdrawals">'
                     r"Daftar penarikan yang belum selesai</a>", html)
    assert ">Penarikan belum selesai<" not in html
    assert "Sudah dibayar" in page
    # The list it opens keeps its own heading.
    assert "<h1>Penarikan belum selesai</h1>" in client.get("/counter/withdrawals").get_data(as_text=True)
