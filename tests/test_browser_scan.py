"""Camera scanning at the counter and the resident's page on a phone, in a real browser.

1. Chromium gets a fake camera (``--use-fake-device-for-media-stream
   --use-file-for-fake-video-capture=<card.y4m>``) whose frames show a member card's QR; the
   operator taps "scan" on the find screen and lands on that member's deposit screen.
2. ``/c/<token>`` at phone size (390 × 844) shows the balance the ledger holds.

The .y4m (YUV4MPEG2, 4:2:0) is written here from a PNG of the QR with Pillow: grey only, so the
chroma planes are flat 128.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from wastebank.documents.qr import qr_image
from wastebank.extensions import db
from wastebank.money import format_idr
from wastebank.services.ledger import member_savings_account
from wastebank.services.members import card_url, live_card

from .factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True,
         "is_mobile": True}


def write_y4m(image: Image.Image, path: Path, frames: int = 10, fps: int = 10) -> None:
    """Write ``image`` as a still YUV4MPEG2 (C420jpeg) video of ``frames`` frames: the luma
    plane is the grey image, the chroma planes are neutral (128). Width and height must be even."""
    grey = image.convert("L")
    width, height = grey.size
    luma = grey.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(luma)
            out.write(chroma)
            out.write(chroma)


def card_video(url: str, path: Path) -> Path:
    """A 640×480 still video of the card URL's QR, centred on white."""
    frame = Image.new("L", (640, 480), 255)
    code = qr_image(url, box_size=8).convert("L")
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    write_y4m(frame, path)
    return path


def _release_db() -> None:
    db.session.commit()
    db.session.close()


def test_counter_scan_lands_on_the_members_deposit_screen(live_server, net, tmp_path):
    member = net.members_a[1]
    url = card_url(live_card(member).token)
    member_no = member.member_no
    video = card_video(url, tmp_path / "card.y4m")
    _release_db()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID",
                                          viewport={"width": 800, "height": 1280}, has_touch=True)
            context.grant_permissions(["camera"], origin=live_server)
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto("/login")
            page.locator("#username").fill("op_a")
            page.locator("#password").fill(PASSWORD)
            page.locator("form button[type=submit].primary").tap()
            page.wait_for_url("**/counter")
            page.locator("#scan-button").tap()
            page.wait_for_url(f"**/counter/member/{member_no}/deposit")
            expect(page.locator("h1")).to_contain_text("Joko Susilo")
            # Typed entry stays: the search box is still on the find screen.
            page.goto("/counter")
            expect(page.locator("#q")).to_be_visible()
        finally:
            browser.close()


def test_resident_page_at_phone_size_shows_the_ledger_balance(live_server, net):
    import uuid

    from wastebank.services.deposits import LineInput, record_deposit
    from wastebank.services.transaction import run_in_transaction

    member = net.members_a[0]
    for quantity in ("1,5", "2,25"):
        run_in_transaction(lambda q=quantity: record_deposit(
            net.unit_a, member, [LineInput("PET-CLEAN", q)], operator_id=net.users["op_a"].id,
            idempotency_key=uuid.uuid4().hex))
    token = live_card(member).token
    balance = member_savings_account(member).balance
    _release_db()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID", **PHONE)
            page = context.new_page()
            page.goto(f"/c/{token}")
            expect(page.locator("#balance")).to_have_text(format_idr(balance, "id"))
            expect(page.locator("#first-name")).to_have_text("Siti")
            expect(page.locator("#movements tr")).to_have_count(2)
            # Mobile-first: nothing wider than the phone's screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "selfservice-phone.png"), full_page=True)
        finally:
            browser.close()
    assert balance == 4875 + 7313
