"""The queue's notice about another operator's unsent items on the tablet, by the role logged
in (counter/offline.py counter_i18n "others"). Only the operator who saved them can send them
(the sender uses the logged-in user's own device token and sends that user's items only; the
queue offers no action on anyone else's), so an operator is told to ask a unit manager if that
operator cannot come back, and a unit manager — who would otherwise be told to ask a unit
manager, i.e. themselves — is told to have that operator log in on this tablet again."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit, User

from .conftest import csrf_token
from .test_browser import browser, operator_tablet, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import API, _capture, _items, _log_in, _open_deposit
from .test_browser_screens import _check

expect = sync_api.expect
SIZES = [(800, 1280), (1280, 800)]

OPERATOR_TEXT = ("{count} catatan yang disimpan {user} di tablet ini belum terkirim; akan dikirim saat {user} "
                 "masuk lagi di tablet ini. Jika tidak bisa, minta bantuan pengurus unit.")
MANAGER_TEXT = ("{count} catatan yang disimpan {user} di tablet ini belum terkirim, dan hanya {user} yang dapat "
                "mengirimnya: minta {user} masuk lagi di tablet ini, lalu catatan itu dikirim otomatis. Dengan "
                "akun Anda, catatan itu tidak dapat dikirim atau dihapus.")
MANAGER_TEXT_EN = ("{count} item(s) saved on this tablet by {user} are not sent yet, and only {user} can send them: "
                   "ask {user} to log in on this tablet again; they are then sent automatically. They cannot be "
                   "sent or removed under your login.")
_I18N = re.compile(r'<script type="application/json" id="counter-i18n">(.*?)</script>', re.S)


def _texts(client) -> dict:
    page = client.get("/counter")
    assert page.status_code == 200
    match = _I18N.search(page.get_data(as_text=True))
    assert match, "no counter-i18n on the counter page"
    return json.loads(match.group(1))


@pytest.mark.parametrize(("username", "expected"), [("op_a", OPERATOR_TEXT), ("mgr_a", MANAGER_TEXT)])
def test_the_page_carries_the_notice_of_the_role_logged_in(client, login, net, username, expected):
    login(username)
    assert _texts(client)["others"] == expected


def test_a_unit_manager_is_not_told_to_ask_a_unit_manager_in_english_either(client, login, net):
    login("mgr_a")
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get("/counter").get_data(as_text=True))})
    text = _texts(client)["others"]
    assert text == MANAGER_TEXT_EN
    assert "ask a unit manager" not in text
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/counter").get_data(as_text=True))})
    login("op_a")
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get("/counter").get_data(as_text=True))})
    assert _texts(client)["others"] == ("{count} item(s) saved on this tablet by {user} are not sent yet; they go "
                                        "out when {user} logs in here again. If they cannot, ask a unit manager.")


def test_no_counter_texts_for_a_role_without_the_counter(client, login, net):
    login("admin")
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'id="counter-i18n"' not in page


def _deposits() -> list[tuple[str, str, int]]:
    rows = [(d.member.member_no, db.session.get(User, d.operator_id).username, d.total_idr)
            for d in db.session.scalars(select(Deposit).order_by(Deposit.id))]
    db.session.close()
    return rows


def _log_out(page) -> None:
    """Log out; whoever leaves an unsent item of their own is asked first (c2a8085): log out anyway."""
    page.locator("form[action$='/logout'] button").click()
    leave = page.locator("#logout-leave")
    flash = page.locator(".flash", has_text="Anda sudah keluar.")
    expect(leave.or_(flash)).to_be_visible()
    if leave.is_visible():
        leave.click()
    expect(flash).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_each_role_reads_what_it_can_do_about_the_other_ones_queue(browser, live_server, net, size):
    """Op A's deposit is kept (no connection) and A logs out. The unit manager who logs in is
    told that only Dewi Operator can send it and to have her log in here again — true: with the
    connection back it stays unsent under the manager's login, with no button on it. The
    manager's own deposit kept likewise tells op A (back at the tablet) to ask a unit manager
    if Budi Pengurus cannot come back; op A's own goes out, recorded as op A's."""
    width, height = size
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    down = {"on": True}
    context.route(API, lambda route: route.abort("connectionrefused") if down["on"] else route.continue_())
    _open_deposit(page, member_no)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
    _log_out(page)

    _log_in(page, "mgr_a")
    others = page.locator("#outbox-others")
    expect(others).to_have_text(MANAGER_TEXT.format(count=1, user="Dewi Operator"))
    expect(others).not_to_contain_text("minta bantuan pengurus unit")
    # Which member's deposit waits, for how much, since when: the count alone named nobody.
    listed = page.locator("#outbox-panel .others-items li")
    when = r"\d\d-\d\d-\d{4} \d\d\.\d\d WIB"
    name = re.escape(net.members_a[0].name)
    expect(listed).to_have_text([re.compile(rf"^{name} · {member_no} · Setoran · Rp\s4\.875 · {when}$")])
    expect(others.locator("button, a")).to_have_count(0)
    expect(page.locator("#outbox-panel .outbox-item")).to_have_count(0)   # not listed, nothing to tap
    problems = _check(page, "manager", width, height, prefix="others-notice")
    # The connection is back: under the manager's login it is still not sent.
    down["on"] = False
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.wait_for_timeout(1500)
    assert [(item["username"], item["state"]) for item in _items(page)] == [("op_a", "queued")]
    assert _deposits() == []
    expect(others).to_have_text(MANAGER_TEXT.format(count=1, user="Dewi Operator"))
    # The manager's own deposit waits too (no connection again), then the manager leaves.
    down["on"] = True
    _open_deposit(page, net.members_a[1].member_no)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
    _log_out(page)

    _log_in(page, "op_a")
    expect(others).to_have_text(OPERATOR_TEXT.format(count=1, user="Budi Pengurus"))
    expect(listed).to_have_text([re.compile(
        rf"^{re.escape(net.members_a[1].name)} · {net.members_a[1].member_no} · Setoran · Rp\s4\.875 · .* WIB$")])
    problems += _check(page, "operator", width, height, prefix="others-notice")
    down["on"] = False
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    expect(page.locator("#outbox-panel .outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert _deposits() == [(member_no, "op_a", 4875)]   # only op A's, by op A
    expect(others).to_have_text(OPERATOR_TEXT.format(count=1, user="Budi Pengurus"))
    context.close()
    assert problems == [], "\n".join(problems)
