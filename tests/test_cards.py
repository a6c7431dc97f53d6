"""Member cards: one live card per member, revoke and reissue, and the card sheet PDF.

Field case C11 (QR too small to read): the card sheet is rasterised at 203 dpi (a cheap
thermal/office printer's resolution) and every QR on it must decode, with a real decoder
(zxing-cpp), to that member's card URL; the quiet zone is at least 4 modules.
"""
from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader
from io import BytesIO
from reportlab.lib.units import mm
from sqlalchemy import func, select

from wastebank.documents.cards import CARD_H, CARD_W, QR_SIZE, CardData, card_origin, render_card_sheet
from wastebank.documents.qr import QUIET_ZONE_MODULES, qr_matrix
from wastebank.extensions import db
from wastebank.models import MemberCard
from wastebank.services.members import card_url, create_member, find_member, issue_card, live_card, revoke_card
from wastebank.services.errors import NotFound

from .conftest import csrf_token

DPI = 203


def decode_pages(pdf: bytes) -> list[list[str]]:
    """The texts of the QR codes found on each page rendered at 203 dpi."""
    pages = []
    for page in pdfium.PdfDocument(pdf):
        image = page.render(scale=DPI / 72).to_pil()
        pages.append(sorted(r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)))
    return pages


def test_c11_every_qr_on_a_full_sheet_decodes_to_its_card_url(app, net):
    unit = net.unit_a
    members = net.members_a + [create_member(unit, f"Warga Nomor {i} Dengan Nama Yang Cukup Panjang Sekali")
                               for i in range(9)]
    db.session.commit()
    cards = [CardData(unit.name, m.name, m.member_no, card_url(live_card(m).token)) for m in members]
    pdf = render_card_sheet(cards)
    pages = decode_pages(pdf)
    assert len(pages) == 2
    assert [len(p) for p in pages] == [10, 2]
    assert sorted(sum(pages, [])) == sorted(c.url for c in cards)
    assert all(url.startswith("https://bank.example/c/") for url in sum(pages, []))


def test_c11_qr_geometry_quiet_zone_and_module_size(app, net):
    url = card_url(live_card(net.members_a[0]).token)
    matrix = qr_matrix(url)
    n = len(matrix)
    # The quiet zone: 4 light modules on every side.
    for i in range(QUIET_ZONE_MODULES):
        assert not any(matrix[i]) and not any(matrix[n - 1 - i])
        assert not any(row[i] for row in matrix) and not any(row[n - 1 - i] for row in matrix)
    module_mm = QR_SIZE / n / mm
    assert module_mm >= 0.75, module_mm                    # ~6 px at 203 dpi, readable at arm's length
    assert (n - 2 * QUIET_ZONE_MODULES) * module_mm >= 25  # the code itself at least 25 mm


def test_card_sheet_layout_is_id1_ten_per_a4_with_text(app, net):
    cards = [CardData("Bank Sampah Melati RW 05", "Ñoño Đặng Łukasz", "RW05-0003", "https://bank.example/c/x" * 2)]
    pdf = render_card_sheet(cards * 10)
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) / mm) == 210 and round(float(box.height) / mm) == 297
    text = reader.pages[0].extract_text()
    assert "Ñoño Đặng Łukasz" in text and "RW05-0003" in text and "Bank Sampah Melati RW 05" in text
    assert round(CARD_W / mm, 2) == 85.60 and round(CARD_H / mm, 2) == 53.98
    # Ten cards inside the page, none overlapping.
    corners = {card_origin(i) for i in range(10)}
    assert len(corners) == 10
    assert all(x > 0 and x + CARD_W < 210 * mm and y > 0 and y + CARD_H < 297 * mm for x, y in corners)
    with pytest.raises(ValueError):
        render_card_sheet([])


def test_at_most_one_live_card_revoke_and_reissue(app, net):
    member = net.members_a[0]
    first = live_card(member)
    second = issue_card(member)
    db.session.commit()
    assert first.revoked_at is not None and second.revoked_at is None and second.token != first.token
    assert len(second.token) >= 22  # ≥ 128 bits in URL-safe base64
    assert db.session.scalar(select(func.count(MemberCard.id)).where(
        MemberCard.member_id == member.id, MemberCard.revoked_at.is_(None))) == 1
    with pytest.raises(NotFound) as caught:
        find_member(net.unit_a.id, card_url(first.token))
    assert caught.value.code == "card_revoked"
    assert find_member(net.unit_a.id, card_url(second.token)).id == member.id
    revoke_card(member)
    db.session.commit()
    assert live_card(member) is None
    with pytest.raises(NotFound):
        find_member(net.unit_a.id, second.token)


def _print(client, query):
    """The card sheet screen for ``query``, then its PDF link (a redirect when no card)."""
    page = client.get("/members/cards", query_string=query)
    if page.status_code != 200:
        return page
    link = re.search(r'id="sheet-download" href="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.get(link.replace("&amp;", "&"))


def test_print_unprinted_cards_then_confirm_then_nothing_left_and_selection(client, login, net):
    login("op_a")
    response = _print(client, {"scope": "unprinted"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    urls = decode_pages(response.data)[0]
    expected = sorted(card_url(live_card(m).token) for m in net.members_a)
    assert urls == expected  # unit A's three members, never unit B's
    db.session.expire_all()
    assert all(live_card(m).printed_at is None for m in net.members_a)  # the PDF marks nothing
    page = client.get("/members/cards", query_string={"scope": "unprinted"}).get_data(as_text=True)
    sheet = re.search(r'name="sheet" value="([^"]+)"', page).group(1)
    done = client.post("/members/cards/printed", data={"csrf_token": csrf_token(page), "sheet": sheet})
    assert done.status_code == 302
    db.session.expire_all()
    assert all(live_card(m).printed_at is not None for m in net.members_a)
    assert all(live_card(m).printed_at is None for m in net.members_b)
    again = _print(client, {"scope": "unprinted"})
    assert again.status_code == 302  # nothing left to print
    # A selection; another unit's member id is ignored.
    one = _print(client, {"member_id": [str(net.members_a[1].id), str(net.members_b[0].id)]})
    assert decode_pages(one.data) == [[card_url(live_card(net.members_a[1]).token)]]


def test_revoke_and_reissue_screens(client, login, net):
    member = net.members_a[0]
    old = live_card(member).token
    login("op_a")
    page = client.get(f"/members/{member.member_no}")
    token = csrf_token(page.get_data(as_text=True))
    assert client.post(f"/members/{member.member_no}/card/reissue", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    new = live_card(member).token
    assert new != old
    assert client.post(f"/members/{member.member_no}/card/revoke", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert live_card(member) is None
    # Another unit's member: 404, nothing changes.
    other = net.members_b[0]
    assert client.post(f"/members/{other.member_no}/card/revoke", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert live_card(other) is not None


def _unit_name_lines(pdf: bytes) -> list[str]:
    """The text lines of the sheet's first card, top down (pypdf's layout of its strings)."""
    return [line.strip() for line in PdfReader(BytesIO(pdf)).pages[0].extract_text().splitlines() if line.strip()]


def test_card_unit_name_stays_on_one_line_and_a_very_long_one_fits_the_card(app, tmp_path):
    """'Bank Sampah Kenanga RW 05' used to wrap as 'Bank Sampah Kenanga RW' / '05': it now fits
    one line (a little smaller). A very long name wraps in even lines, every one of them inside
    the card's text column (left of the QR), and the QR still decodes."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from wastebank.documents.cards import _PAD, _fit_unit_name
    from wastebank.documents.fonts import FONT_BOLD, register_fonts

    url = "https://bank.example/c/abcdefghijklmnopqrstuvwxyz012345"
    pdf = render_card_sheet([CardData("Bank Sampah Kenanga RW 05", "Siti Aminah", "RW05-0001", url)])
    lines = _unit_name_lines(pdf)
    assert "Bank Sampah Kenanga RW 05" in lines
    assert "05" not in lines
    assert decode_pages(pdf) == [[url]]

    register_fonts()
    text_w = CARD_W - QR_SIZE - 1.5 * mm - _PAD
    long_name = "Bank Sampah Induk Kecamatan Kebayoran Baru Jakarta Selatan Kelurahan Gandaria RW 05"
    wrapped, size = _fit_unit_name(long_name, FONT_BOLD, text_w)
    assert 2 <= len(wrapped) <= 3 and size >= 6
    assert all(stringWidth(line, FONT_BOLD, size) <= text_w for line in wrapped)
    assert min(len(line.split()) for line in wrapped) >= 2          # no lone word as a tail
    pdf = render_card_sheet([CardData(long_name, "Siti Aminah", "RW05-0001", url)])
    text = " ".join(_unit_name_lines(pdf))
    assert " ".join(wrapped) in text
    assert decode_pages(pdf) == [[url]]
    # One unbreakable word is cut with an ellipsis rather than run under the QR.
    wrapped, size = _fit_unit_name("Bank Sampah " + "X" * 80, FONT_BOLD, text_w)
    assert wrapped[-1].endswith("…") and all(stringWidth(line, FONT_BOLD, size) <= text_w for line in wrapped)
