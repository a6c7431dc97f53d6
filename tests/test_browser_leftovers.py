"""Leftovers from the last tablet testers' round, each checked as the person sees it; browser
screens at 800×1280 and 1280×800, screenshots ``test-artifacts/leftovers-<item>-<w>x<h>.png``:

1. a deposit kept on the tablet while it is offline says it goes once the tablet is connected
   again (not "once the server takes it", which stays for a server that did not record it);
2. the manager's member page marks a voided deposit's original row "BATAL", as the counter's;
3. the card sheet PDF (and the receipts) are served inline, so the tablet opens them to print;
4. the queue's "not sent since …" reads like the queue's times: "03-12-2026 13.14 WIB";
5. the catalogue no longer has the unused "Key" → "Kunci" (the slip shows "Kode slip").
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from .test_browser import ARTIFACTS, browser, log_in, operator_tablet, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_member_movement_links import moved  # noqa: F401  (a fixture)
from .test_browser_outbox import _capture, _device_ready, _open_deposit
from .test_browser_screens import _check

expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"
CATALOGUE = Path(__file__).resolve().parents[1] / "wastebank" / "translations" / "id" / "LC_MESSAGES"
KEPT_OFFLINE = "dikirim otomatis begitu tablet tersambung lagi"
KEPT_SERVER = "dikirim otomatis begitu server menerimanya"



# 1 ------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_kept_offline_says_it_goes_once_the_tablet_is_connected(browser, live_server, net):
    """Offline: the result panel says the deposit goes once the tablet is connected again, in
    line with the queue item; back online with the server failing, it says the server's wording."""
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _open_deposit(page, member_no)
        _device_ready(page)
        context.set_offline(True)
        _capture(page)
        panel = page.locator("#result-panel")
        expect(panel.locator("h2")).to_have_text("Tersimpan di tablet ini")
        expect(panel.locator("p.what")).to_have_text(
            "Belum terkirim (Rp 4.875); dikirim otomatis begitu tablet tersambung lagi. "
            "Anda bisa melayani nasabah berikutnya.")
        expect(page.locator(".outbox-item.queued .reason")).to_have_text(
            "Tablet ini tidak ada koneksi; dikirim otomatis begitu koneksi kembali.")
        page.screenshot(path=str(ARTIFACTS / f"leftovers-1-offline-{width}x{height}.png"))
        problems += _check(page, "1-offline-full", width, height, prefix="leftovers")

        # Connected again, but the server cannot record it: the panel follows the queue.
        page.route(API, lambda route: route.fulfill(status=503, content_type="application/json",
                                                    body='{"error": {"code": "", "message": ""}}'))
        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        expect(page.locator(".outbox-item.queued .reason")).to_have_text(
            "Server belum bisa mencatatnya saat ini; dicoba lagi otomatis.", timeout=15_000)
        expect(panel.locator("p.what")).to_contain_text(KEPT_SERVER)
        page.screenshot(path=str(ARTIFACTS / f"leftovers-1-server-{width}x{height}.png"))
        page.unroute(API)
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
        expect(panel.locator("h2")).to_contain_text("Terkirim")
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_kept_after_a_server_error_keeps_the_servers_wording(browser, live_server, net):
    """Online, the server answers 500: "once the server takes it", never "once connected"."""
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    page.route(API, lambda route: route.fulfill(status=500, content_type="application/json",
                                                body='{"error": {"code": "", "message": ""}}'))
    _open_deposit(page, member_no)
    _capture(page)
    panel = page.locator("#result-panel")
    expect(panel.locator("h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
    expect(panel.locator("p.what")).to_contain_text(KEPT_SERVER)
    expect(panel.locator("p.what")).not_to_contain_text(KEPT_OFFLINE)
    context.close()


# 2 ------------------------------------------------------------------------------------------

def _movement_rows(html: str, table_marker: str) -> list[str]:
    """The text of each body row of the movements table that starts at ``table_marker``."""
    table = html[html.index(table_marker):]
    table = table[table.index("<tbody>"):table.index("</table>")]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_manager_member_page_marks_the_voided_original(client, login, moved):
    """The voided deposit's own row says "BATAL" with the counter's markup; its void row and
    the other rows do not."""
    member_no, receipts, (_withdrawal_id, withdrawal_no) = moved
    login("mgr_a")
    html = client.get(f"/members/{member_no}").get_data(as_text=True)
    rows = _movement_rows(html, 'id="member-movements"')
    marked = [row for row in rows if "BATAL" in row]
    assert len(marked) == 1 and f"Setoran {receipts[1]} BATAL" in marked[0], rows
    assert any(f"Pembatalan setoran {receipts[1]}" in row and "BATAL" not in row for row in rows), rows
    assert any(f"Setoran {receipts[0]}" in row and "BATAL" not in row for row in rows), rows
    assert any(withdrawal_no in row and "BATAL" not in row for row in rows), rows
    mark = '<strong class="error">BATAL</strong>'
    assert html.count(mark) == 1
    # The counter's member page marks the same deposit with the same markup.
    counter = client.get(f"/counter/member/{member_no}").get_data(as_text=True)
    assert counter.count(mark) == 1
    assert [row for row in _movement_rows(counter, 'class="list"') if "BATAL" in row] == [
        row for row in _movement_rows(counter, 'class="list"') if f"Setoran {receipts[1]} BATAL" in row]


@pytest.mark.browser
def test_manager_member_page_void_mark_in_the_browser(browser, live_server, moved):
    member_no, receipts, _withdrawal = moved
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto(f"/members/{member_no}")
        mark = page.locator("#member-movements td.memo strong.error")
        expect(mark).to_have_count(1)
        expect(mark).to_have_text("BATAL")
        row = page.locator("#member-movements tbody tr", has=page.locator("strong.error"))
        expect(row.locator("a")).to_have_text(receipts[1])
        expect(row).to_contain_text("Setoran")
        expect(row).not_to_contain_text("dibatalkan")
        colour = mark.evaluate("(el) => getComputedStyle(el).color")
        box = mark.bounding_box()
        cell = row.locator("td.memo").bounding_box()
        assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1, (box, cell)  # inside its cell
        page.locator("#member-movements").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"leftovers-2-{width}x{height}.png"))
        problems += _check(page, "2-full", width, height, prefix="leftovers")
        # The counter's page shows its mark in the same colour.
        page.goto(f"/counter/member/{member_no}")
        counter_mark = page.locator("table.list strong.error")
        expect(counter_mark).to_have_text("BATAL")
        assert counter_mark.evaluate("(el) => getComputedStyle(el).color") == colour
        context.close()
    assert problems == [], "\n".join(problems)


# 3 ------------------------------------------------------------------------------------------

def _sheet_link(client) -> tuple[str, str]:
    """The card sheet screen of every unprinted card: its HTML and its PDF link."""
    html = client.get("/members/cards", query_string={"scope": "unprinted"}).get_data(as_text=True)
    link = re.search(r'<a [^>]*id="sheet-download"[^>]*>', html).group(0)
    return html, link


def test_card_sheet_and_receipts_are_served_inline(client, login, moved):
    """The card sheet PDF opens in the viewer (inline, a sensible file name); its link is no
    longer a download; the receipts' PDFs are inline too (they already were)."""
    member_no, receipts, (withdrawal_id, withdrawal_no) = moved
    login("mgr_a")
    _html, link = _sheet_link(client)
    assert "download=" not in link and 'target="_blank"' in link, link
    assert "Buka lembar kartu (PDF)" in _html
    href = re.search(r'href="([^"]+)"', link).group(1).replace("&amp;", "&")
    sheet = client.get(href)
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert sheet.headers["Content-Disposition"] == 'inline; filename="kartu-RW05.pdf"'
    assert sheet.data[:5] == b"%PDF-"
    receipt = client.get(f"/counter/receipt/{receipts[0]}.pdf")
    assert receipt.headers["Content-Disposition"] == f'inline; filename="{receipts[0]}.pdf"'
    paid = client.get(f"/counter/withdrawal/{withdrawal_id}.pdf")
    assert paid.headers["Content-Disposition"] == f'inline; filename="{withdrawal_no}.pdf"'


@pytest.mark.browser
def test_card_sheet_opens_in_a_viewer_tab(browser, live_server, net):
    """Tapping "Buka lembar kartu (PDF)" opens the sheet in a new tab (no file saved); the
    screen says so and offers the confirmation; the cards stay unprinted."""
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/members/cards?scope=unprinted")
        downloads: list = []
        page.on("download", lambda d: downloads.append(d))
        with page.expect_popup() as caught:
            page.get_by_role("link", name="Buka lembar kartu (PDF)").click()
        viewer = caught.value
        viewer.on("download", lambda d: downloads.append(d))
        expect(page.locator("#sheet-status")).to_have_text(
            "Lembar kartu sudah terbuka di tab baru: cetak dari sana, lalu periksa kartunya.")
        expect(viewer).to_have_url(re.compile(r"^blob:http"))  # the fetched sheet (a PDF viewer fires no "load")
        # The tab shows the PDF itself (the page's CSP keeps fetch() off blob: URLs, so ask the tab).
        assert viewer.evaluate("() => document.contentType") == "application/pdf"
        expect(page.locator("#sheet-confirm-button")).to_be_visible()
        assert downloads == []
        page.screenshot(path=str(ARTIFACTS / f"leftovers-3-{width}x{height}.png"))
        problems += _check(page, "3-full", width, height, prefix="leftovers")
        viewer.screenshot(path=str(ARTIFACTS / f"leftovers-3-viewer-{width}x{height}.png"))
        context.close()
    assert problems == [], "\n".join(problems)


# 4 ------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_not_sent_since_reads_like_the_queue_times(browser, live_server, net):
    """A deposit kept on the tablet three days ago: the warning names its capture time as the
    queue item does ("03-12-2026 13.14 WIB"), not "03/12/2026" from the tablet's clock."""
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        page.route(API, lambda route: route.abort("connectionreset"))  # nothing reaches the server
        _open_deposit(page, member_no)
        _device_ready(page)
        page.clock.install(time=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3))
        _capture(page)
        expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
        page.clock.set_system_time(datetime.now(timezone.utc))
        page.reload()
        captured = datetime.fromisoformat(page.evaluate(
            "async () => (await window.wastebankCounter.store.allItems())[0].captured_at").replace("Z", "+00:00"))
        since = (captured + timedelta(hours=7)).strftime("%d-%m-%Y %H.%M") + " WIB"  # Asia/Jakarta, no DST
        stale = page.locator("#outbox-stale")
        expect(stale).to_have_text(f"1 catatan di tablet ini belum terkirim sejak {since}")
        expect(page.locator(".outbox-item.queued .muted").first).to_contain_text(since)  # the queue item's time
        page.screenshot(path=str(ARTIFACTS / f"leftovers-4-{width}x{height}.png"))
        problems += _check(page, "4-full", width, height, prefix="leftovers")
        context.close()
    assert problems == [], "\n".join(problems)


# 5 ------------------------------------------------------------------------------------------

def test_catalogue_has_no_unused_key_entry():
    """The slip says "Kode slip"; the old "Key" → "Kunci" is gone from the .po and the .mo."""
    with open(CATALOGUE / "messages.po", "rb") as handle:
        po = read_po(handle)
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        mo = read_mo(handle)
    for catalogue in (po, mo):
        assert catalogue.get("Key") is None
        assert catalogue.get("Slip code").string == "Kode slip"
