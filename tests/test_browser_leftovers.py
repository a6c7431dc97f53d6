"""Leftovers from the last tablet testers' round, each checked as the person sees it; browser
screens at 800×1280 and 1280×800, screenshots ``test-artifacts/leftovers-<item>-<w>x<h>.png``:

1. a deposit kept on the tablet while it is offline says it goes once the tablet is connected
   again (not "once the server takes it", which stays for a server that did not record it);
2. the manager's member page marks a voided deposit's original row "BATAL", as the counter's;
3. the card sheet PDF (and the receipts) are served inline, so the tablet opens them to print;
4. the queue's "not sent since …" reads like the queue's times: "03-12-2026 13:14 WIB";
5. the catalogue no longer has the unused "Key" → "Kunci" (the slip shows "Kode slip").
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[1] / "wastebank" / "translations" / "id" / "LC_MESSAGES"


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
