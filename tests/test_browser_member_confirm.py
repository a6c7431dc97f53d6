"""The member page's one-tap risks ask first (a tester revoked a card and removed a PIN by
mistaken taps): "Cabut kartu (hilang)" and "Hapus PIN" confirm; "Simpan PIN" empty changes
nothing. At 800x1280 and 1280x800."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Member, MemberCard
from wastebank.services.members import issue_card, set_pin
from wastebank.services.transaction import run_in_transaction

from .test_browser import browser, log_in, sized_context  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check


def _live_cards(member_id: int) -> int:
    count = len(db.session.scalars(select(MemberCard).where(MemberCard.member_id == member_id,
                                                            MemberCard.revoked_at.is_(None))).all())
    db.session.close()
    return count


@pytest.mark.parametrize("size", [(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def test_revoking_a_card_and_removing_a_pin_ask_first(browser, live_server, net, size):
    width, height = size
    member = net.members_a[0]
    member_id, member_no, name = member.id, member.member_no, member.name
    def card_and_pin():
        fresh = db.session.get(Member, member_id)
        issue_card(fresh)
        set_pin(fresh, "2468")

    run_in_transaction(card_and_pin)
    db.session.close()
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    answers, asked = ["dismiss"], []

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.dismiss() if answers and answers.pop(0) == "dismiss" else dialog.accept()

    page.on("dialog", on_dialog)
    log_in(page, "op_a")
    page.goto(f"/members/{member_no}")
    assert _check(page, f"member-confirm-{width}", width, height, prefix="members") == []
    page.get_by_role("button", name="Cabut kartu (hilang)").click()
    assert asked == [f"Cabut kartu {name}? Kartu ini langsung tidak berlaku; terbitkan kartu baru untuk menggantinya."]
    assert _live_cards(member_id) == 1          # dismissed: nothing sent
    page.get_by_role("button", name="Simpan PIN").click()   # the box is empty
    expect(page.locator("p.flash.error")).to_have_text(
        'Ketik PIN baru (4–6 angka). Untuk menghapus PIN, ketuk "Hapus PIN".')
    answers.append("dismiss")
    page.get_by_role("button", name="Hapus PIN").click()
    assert asked[-1] == f"Hapus PIN {name}? Halaman kartunya lalu terbuka tanpa PIN."
    answers.append("accept")
    page.get_by_role("button", name="Hapus PIN").click()
    expect(page.locator("p.flash.ok")).to_have_text("PIN dihapus.")
    # Revoked with the reply lost (the server did it): the page's note, not the browser's error
    # page (a tester, second round); tapping again says there is no live card, nothing more.
    lost = []

    def lose_reply(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.request.url)
            route.fetch()
            route.abort("failed")
        else:
            route.continue_()

    page.route("**/card/revoke", lose_reply)
    answers.append("accept")
    page.get_by_role("button", name="Cabut kartu (hilang)").click()
    expect(page.locator(".resilient-note[role=alert]")).to_contain_text("Mungkin sudah tersimpan, mungkin belum.")
    assert _live_cards(member_id) == 0
    answers.append("accept")
    page.get_by_role("button", name="Cabut kartu (hilang)").click()
    expect(page.locator("p.flash.ok")).to_have_text("Tidak ada kartu yang berlaku.")
    expect(page.get_by_role("button", name="Cabut kartu (hilang)")).to_have_count(0)
    assert _live_cards(member_id) == 0
    # Deactivating asks first too.
    answers.append("dismiss")
    page.get_by_role("button", name="Nonaktifkan").click()
    assert asked[-1].startswith(f"Nonaktifkan {name}? Setoran dan penarikan tidak dapat dicatat")
    expect(page.get_by_role("button", name="Nonaktifkan")).to_have_count(1)
    context.close()
