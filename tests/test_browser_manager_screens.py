"""Manager, statement, impact, report and member pages fit the tablet (issue 9 item 3): at
800×1280 and 1280×800 no page is wider than the screen (a wide table scrolls inside its card
or stacks its rows), every control is at least 44×44 px, and the fixed screens behave — the
stock column, the sale form's running total before the check step, the cash book's labels, the
audit log. Demo-like data: several members with deposits, a price change, a sale, a cash
withdrawal, a stock adjustment, a member edit. Screenshots: ``test-artifacts/manager-*.png``.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Collaborator, User
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import create_member, update_member
from wastebank.services.org import add_sponsorship
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.stock import adjust_stock
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check as check_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


@pytest.fixture
def manager_data(net):
    """RW05 with eight members, deposits of several categories, a price change, an off-taker
    and a sale, a cash withdrawal, a stock write-off and a member edit; the collaborator
    sponsors RW05. Returns ``{"member_no", "sale_no"}``."""
    mgr = db.session.get(User, net.users["mgr_a"].id)
    members = list(net.members_a)
    for name in ("Wahyu Hidayat", "Ani Suryani", "Bambang Setiawan", "Lestari Wulandari", "Eko Prasetyo"):
        members.append(run_in_transaction(lambda: create_member(net.unit_a, name, rt="02", rw="05", user_id=mgr.id)))
    for i, member in enumerate(members):
        lines = [LineInput("PET-CLEAN", f"{3 + i},5"), LineInput("CARDBOARD", str(10 + i)),
                 LineInput("GLASS-BOTTLE", str(2 + i))]
        run_in_transaction(lambda: record_deposit(net.unit_a, member, lines, operator_id=mgr.id,
                                                  idempotency_key=f"mgr-screens-dep-{i:02d}"))
    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["CARDBOARD"], 2100, 2700, created_by_id=mgr.id))
    buyer = run_in_transaction(lambda: create_offtaker(
        net.unit_a, "CV Maju Daur Ulang Sejahtera", phone="0812 3456 789",
        address="Jl. Industri Raya No. 12, Cakung", user=mgr))
    sale = run_in_transaction(lambda: record_sale(
        net.unit_a, buyer,
        [SaleLineInput("CARDBOARD", "20", "19,5", "2700"), SaleLineInput("PET-CLEAN", "5", "", "4500")],
        "cash", user=mgr, idempotency_key="mgr-screens-sale-01"))
    run_in_transaction(lambda: record_withdrawal(net.unit_a, members[0], WithdrawalInput("cash", "15.000"), user=mgr,
                                                 idempotency_key="mgr-screens-wd-01"))
    run_in_transaction(lambda: adjust_stock(net.unit_a, net.categories["GLASS-BOTTLE"], -1000, "pecah", mgr))
    run_in_transaction(lambda: update_member(members[1], name="Joko Susilo Wibowo", phone="081234567890", rt="04",
                                             rw="05", kind="household", user_id=mgr.id))
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.id == net.users["collab"].collaborator_id))
    run_in_transaction(lambda: add_sponsorship(collaborator, net.unit_a, date(2024, 1, 1)))
    db.session.commit()
    return {"member_no": members[0].member_no, "sale_no": sale.body["sale_no"]}


def _check(page, name: str, width: int, height: int) -> list[str]:
    return check_page(page, name, width, height, prefix="manager")


def test_manager_statement_impact_report_and_member_pages_fit(browser, manager_data, live_server):
    member_no, sale_no = manager_data["member_no"], manager_data["sale_no"]
    month = date.today().strftime("%Y-%m")
    manager_pages = {
        "home": "/manager/", "stock": "/manager/stock", "adjust": "/manager/stock/adjust",
        "offtakers": "/manager/offtakers", "sales": "/manager/sales", "sale": f"/manager/sales/{sale_no}",
        "cashbook": "/manager/cashbook", "audit": "/manager/audit", "audit-filtered": "/manager/audit?action=price.set",
        "prices": "/manager/prices", "price-category": "/manager/prices/CARDBOARD",
        "unit-report": "/reports/unit", "members": "/members/", "member": f"/members/{member_no}",
        "member-edit": f"/members/{member_no}/edit", "member-new": "/members/new", "member-import": "/members/import",
    }
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        for name, url in manager_pages.items():
            response = page.goto(url)
            assert response.status == 200, (url, response.status)
            problems += _check(page, name, width, height)

        # Stock: quantities right-aligned in each category's unit.
        page.goto("/manager/stock")
        cardboard = page.locator("#stock-CARDBOARD td.quantity")
        assert re.fullmatch(r"[\d.]+(,\d+)? kg", cardboard.inner_text().strip())
        assert page.locator("#stock-GLASS-BOTTLE td.quantity").inner_text().strip().endswith(" pcs")
        assert cardboard.evaluate("(el) => getComputedStyle(el).textAlign") == "right"

        # Cash book: the withdrawal by its label and the member's name, the sale by its buyer.
        page.goto("/manager/cashbook")
        book = page.locator("#cashbook").inner_text()
        assert "Penarikan tunai" in book and "Siti Aminah" in book and "CV Maju Daur Ulang Sejahtera" in book
        assert "Penarikan cash" not in book

        # Audit log: labels, links, before → after.
        page.goto("/manager/audit?action=price.set")
        first = page.locator("#audit tbody tr").first
        assert "Harga ditetapkan" in first.inner_text()
        assert "Rp 2.000 → Rp 2.100" in first.inner_text()
        page.goto("/manager/audit?action=member.update")
        assert "Joko Susilo → Joko Susilo Wibowo" in page.locator("#audit").inner_text()
        expect(page.locator("#audit a.object").first).to_have_attribute("href", re.compile(r"^/members/RW05-"))

        # Sale form: 7 digits fit the price box; the running total shows before the check step.
        page.goto("/manager/sales/new")
        price = page.locator("input[name='p-PET-CLEAN']")
        price.fill("1234567")
        assert price.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "7 digits do not fit the price box"
        price.fill("4500")
        page.fill("input[name='w-PET-CLEAN']", "2")
        page.fill("input[name='w-CARDBOARD']", "10")
        page.fill("input[name='a-CARDBOARD']", "9,5")
        expect(page.locator("#sale-estimate")).to_have_text("Rp 34.650")  # 2 × 4.500 + 9,5 × 2.700
        problems += _check(page, "sale-new", width, height)
        page.click("#review")
        expect(page.locator("#confirm-total")).to_have_text("Rp 34.650")
        problems += _check(page, "sale-confirm", width, height)

        # A refusal names the category, and the sticky total bar does not cover it.
        page.goto("/manager/sales/new")
        page.fill("input[name='w-PET-CLEAN']", "99999")
        page.click("#review")
        error = page.locator("p.error[role=alert]").first
        expect(error).to_contain_text("Botol PET bening bersih")
        assert "PET-CLEAN" not in error.inner_text()
        box, bar = error.bounding_box(), page.locator("#sale-bar").bounding_box()
        assert box["y"] + box["height"] <= bar["y"] or box["y"] >= bar["y"] + bar["height"], (box, bar)
        problems += _check(page, "sale-refused", width, height)
        context.close()

        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "agg")
        pages = {"statements": f"/statements?month={month}", "statement-unit-report": "/reports/unit?unit=RW05"}
        for name, url in pages.items():
            assert page.goto(url).status == 200, url
            problems += _check(page, name, width, height)
        context.close()

        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "collab")
        assert page.goto(f"/impact?from={month}&to={month}").status == 200
        problems += _check(page, "impact", width, height)
        context.close()

        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "admin")
        assert page.goto("/manager/audit").status == 200
        problems += _check(page, "audit-admin", width, height)
        context.close()
    (ARTIFACTS / "manager-screens-problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == [], "\n".join(problems)


def test_members_list_fits_a_phone_with_big_check_boxes(browser, manager_data, live_server):
    context = sized_context(browser, live_server, 390, 844)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/members/")
    problems = _check(page, "members-phone", 390, 844)
    boxes = page.locator("#members label.tap")
    assert boxes.count() >= 8
    for i in range(boxes.count()):
        box = boxes.nth(i).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    context.close()
    assert problems == [], "\n".join(problems)
