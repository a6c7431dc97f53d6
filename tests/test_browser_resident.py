"""The resident page /c/<token> (issue 9 item 9) on a phone and a tablet: what each deposit
brought (categories and kg), "total diselamatkan", the posting date beside a late offline
capture, the period an empty date range gives; no horizontal overflow and 44 px tap targets at
390×844, 800×1280 and 1280×800. Screenshots: test-artifacts/resident-*.png."""
from __future__ import annotations

import pytest

from wastebank.extensions import db
from wastebank.services.members import issue_card

from .report_helpers import at, deposit
from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import CHECK, SIZES

pytestmark = pytest.mark.browser


@pytest.fixture
def resident(net, request):
    """Siti's card, with deposits of several categories (one an offline capture of 30 Nov
    23:40 posted on 2 Dec), then the live server."""
    a, siti = net.unit_a, net.members_a[0]
    deposit(a, siti, [("PET-CLEAN", "1,25"), ("CARDBOARD", "12"), ("ALU-CAN", "0,5")], at(2025, 11, 3))
    deposit(a, siti, [("PET-CLEAN", "2,5"), ("CARDBOARD", "4")], at(2025, 12, 2, 8, 0),
            recorded_at=at(2025, 11, 30, 23, 40))
    deposit(a, siti, [("CARDBOARD", "480")], at(2025, 12, 5))
    deposit(a, siti, [("PET-CLEAN", "300"), ("CARDBOARD", "480")], at(2025, 12, 6))
    token = issue_card(siti).token
    db.session.commit()
    return request.getfixturevalue("live_server"), token


def test_resident_page_fits_and_shows_what_was_brought(browser, resident):
    base, token = resident
    problems = []
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in SIZES:
        context = sized_context(browser, base, width, height)
        page = context.new_page()
        page.goto(f"/c/{token}")
        text = page.inner_text("main")
        # 1,25 + 12 + 0,5 + 2,5 + 4 + 480 + 300 + 480 kg (thousands marks or not).
        assert "Total diselamatkan" in text and ("1.280,25 kg" in text or "1280,25 kg" in text), text
        assert "dicatat 30/11 23.40, dibukukan 02/12" in text
        assert "Kardus: 4 kg" in text and "Kaleng aluminium: 0,5 kg" in text
        assert "Kosongkan kedua tanggal untuk bulan ini sampai hari ini" in text
        page.screenshot(path=str(ARTIFACTS / f"resident-{width}x{height}.png"), full_page=True)
        result = page.evaluate(CHECK)
        if result["scroll"] > result["width"]:
            problems.append(f"{width}x{height}: {result['scroll']} px wide")
        problems += [f"{width}x{height}: {el}" for el in result["small"]]
        context.close()
    assert problems == []


@pytest.fixture
def late_month(net, request):
    """November 2025 at RW05 with an offline capture of 30 Nov 23:40 posted on 2 Dec."""
    a = net.unit_a
    for i, m in enumerate(net.members_a):
        deposit(a, m, [("PET-CLEAN", "1,5"), ("CARDBOARD", "3")], at(2025, 11, 10 + i))
    deposit(a, net.members_a[0], [("PET-CLEAN", "2,5"), ("CARDBOARD", "4")], at(2025, 12, 2, 8, 0),
            recorded_at=at(2025, 11, 30, 23, 40))
    db.session.commit()
    return request.getfixturevalue("live_server")


def test_statement_and_unit_report_downloads_fit(browser, late_month):
    """The CSV choices beside the PDF and the unit report's late postings fit both tablet sizes."""
    problems = []
    for width, height in SIZES[:2]:
        for user, url, name in (("agg", "/statements?month=2025-11", "statement"),
                                ("mgr_a", "/reports/unit?month=2025-11&day=2025-11-30", "unit-report")):
            context = sized_context(browser, late_month, width, height)
            page = context.new_page()
            log_in(page, user)
            page.goto(url)
            text = page.inner_text("main")
            if name == "statement":
                assert "CSV untuk Excel (;)" in text and "CSV, pemisah koma" in text
            else:
                assert "dicatat 30/11 23.40, dibukukan 02/12" in text
            page.screenshot(path=str(ARTIFACTS / f"months-{name}-{width}x{height}.png"), full_page=True)
            result = page.evaluate(CHECK)
            if result["scroll"] > result["width"]:
                problems.append(f"{name} {width}x{height}: {result['scroll']} px wide")
            problems += [f"{name} {width}x{height}: {el}" for el in result["small"]
                         if "CSV" in el["text"] or el["id"] == "late-postings"]
            context.close()
    assert problems == []
