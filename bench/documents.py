"""Receipts and member cards per second per core, before and after the speed-ups, in one run.

Usage (from the repo root, after `make install`):

    .venv/bin/python bench/documents.py                 # 200 renders of each kind and variant
    .venv/bin/python bench/documents.py --renders 500 --rounds 5

Renders, in one process (one core), a three-line deposit receipt at 58 mm, 80 mm and A6 and a
sheet of ten member cards, each in two variants taken in turn, A B A B … (``--rounds`` rounds
of ``--renders // rounds`` renders each), so a drift in the machine's speed hits both alike:

* receipts, ``before``: the platypus layout (Paragraph and Table flowables), that is
  ``wastebank/documents/receipt.py`` as of commit ``PLATYPUS_COMMIT``, read with ``git show``
  and loaded beside the current module (same QR encoder, fonts and subset cache, so the ratio
  is the layout's alone); ``after``: the current module (canvas calls, ``wrap_text``);
* cards, ``before``: the pure-Python ``qrcode`` encoder with its own mask search
  (``qr.ENCODER = "qrcode"``, ``qr.MASK_PATTERN = None``: the symbol is built eight times and
  scored in Python) and no font-subset cache (``fonts.SUBSET_CACHE_SIZE = 0``), as before
  issue 13; ``after``: the encoder in use (zxing-cpp's writer) and the subset cache
  (``wastebank/documents/qr.py``, ``wastebank/documents/fonts.py``).

Both variants draw the QR as one integer path and use the C accelerator when it is installed
(it cannot be unloaded in a running process); the README gives the figures of older commits.

Figures are CPU seconds of this process (``time.process_time``), so other work on a shared
machine counts less than in wall time; per second = renders / CPU seconds. Also prints whether
reportlab's C accelerator (``_rl_accel``, the ``rl-accel`` package) is importable, since
without it reportlab formats every PDF number in Python. Pure rendering: no database, no Flask.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wastebank.documents import fonts, qr  # noqa: E402
from wastebank.documents.cards import CardData, render_card_sheet  # noqa: E402
from wastebank.documents.receipt import ReceiptData, ReceiptLine, render_receipt  # noqa: E402

#: The last commit whose receipt.py laid receipts out with platypus (the ``before`` receipts).
PLATYPUS_COMMIT = "a752612"
#: QR encoder, its mask (qrcode only) and the subset cache size of the card variants.
CARD_SETTINGS = {"before": ("qrcode", None, 0), "after": (qr.ENCODER, qr.MASK_PATTERN, fonts.SUBSET_CACHE_SIZE)}


def platypus_receipt():
    """``render_receipt`` of :data:`PLATYPUS_COMMIT`'s receipt.py, loaded as a sibling module of
    the current one (its relative imports find today's fonts, layout and qr)."""
    source = subprocess.run(["git", "show", f"{PLATYPUS_COMMIT}:wastebank/documents/receipt.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    name = "wastebank.documents._receipt_platypus"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "wastebank.documents"
    sys.modules[name] = module
    exec(compile(source, f"{PLATYPUS_COMMIT}:receipt.py", "exec"), module.__dict__)  # noqa: S102 - our own file
    return module.render_receipt


def use(settings: tuple[str, int | None, int]) -> None:
    """Set the QR encoder, its mask and the subset cache size."""
    qr.ENCODER, qr.MASK_PATTERN, fonts.SUBSET_CACHE_SIZE = settings


def receipt(i: int) -> ReceiptData:
    """A usual visit: three lines, four totals, the verification URL (distinct per receipt so no
    cache can help), a thank-you line."""
    lines = (
        ReceiptLine("Botol plastik PET bening campur tutup", "1,5 kg", "Rp 3.250/kg", "Rp 4.875"),
        ReceiptLine("Kardus", "4,2 kg", "Rp 1.800/kg", "Rp 7.560"),
        ReceiptLine("Kaleng aluminium", "0,75 kg", "Rp 12.000/kg", "Rp 9.000"),
    )
    return ReceiptData(
        title="BUKTI SETORAN", unit_name="Bank Sampah RW 05 Sukamaju",
        unit_address="Jl. Melati No. 12, Kel. Sukamaju, Bandung", receipt_no=f"RW05-2026-{i:06d}",
        local_datetime="29-11-2026 14:05 WIB", operator="Dewi Lestari", member_no="RW05-0042",
        member_name="Raden Ajeng Siti Nurhaliza Kusumawardani", lines=lines,
        totals=(("Total", "Rp 21.435"), ("Biaya", "Rp 0"), ("Dikreditkan", "Rp 21.435"),
                ("Saldo baru", "Rp 112.000")),
        verify_url=f"https://banksampah.example.id/v/RW05-2026-{i:06d}?k={i * 2654435761 % 2**32:08x}",
        footer="Terima kasih telah memilah sampah!",
    )


def card_sheet(i: int) -> list[CardData]:
    """Ten cards (one A4 page), each with its own card URL."""
    return [CardData(unit_name="Bank Sampah RW 05 Sukamaju", member_name=f"Siti Aminah {i}-{k}",
                     member_no=f"RW05-{(i * 10 + k) % 10000:04d}",
                     url=f"https://banksampah.example.id/c/{(i * 10 + k) * 2654435761 % 2**64:016x}xyzABC")
            for k in range(10)]


def kinds() -> dict[str, dict[str, object]]:
    """Each document's two variants: ``{kind: {"before": render(i), "after": render(i)}}``."""
    old = platypus_receipt()
    out: dict[str, dict[str, object]] = {}
    for size, name in (("58", "receipt 58 mm"), ("80", "receipt 80 mm"), ("A6", "receipt A6")):
        out[name] = {"before": lambda i, s=size: old(receipt(i), s),
                     "after": lambda i, s=size: render_receipt(receipt(i), s)}
    def card(variant):
        def render(i):
            use(CARD_SETTINGS[variant])
            try:
                return render_card_sheet(card_sheet(i))
            finally:
                use(CARD_SETTINGS["after"])
        return render
    out["card sheet (10 cards)"] = {"before": card("before"), "after": card("after")}
    return out


def measure(render, count: int, start: int) -> float:
    """CPU seconds for ``count`` renders."""
    t0 = time.process_time()
    for i in range(start, start + count):
        render(i)
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=200, help="renders per kind and variant")
    parser.add_argument("--rounds", type=int, default=4, help="A B rounds the renders are split into")
    args = parser.parse_args(argv)
    try:
        import _rl_accel  # noqa: F401
        accel = "yes"
    except ImportError:
        accel = "no (reportlab formats PDF numbers in Python)"
    print(f"python {sys.version.split()[0]}, reportlab C accelerator: {accel}")
    per_round = max(1, args.renders // args.rounds)
    print(f"{'document':24} {'before /s':>10} {'after /s':>10} {'after ms':>9} {'ratio':>6}")
    for name, variants in kinds().items():
        for render in variants.values():  # warm-up: fonts, imports
            render(0)
        cpu = {v: [] for v in variants}
        for rnd in range(args.rounds):
            for variant, render in variants.items():
                cpu[variant].append(measure(render, per_round, 1 + rnd * per_round))
        rate = {v: per_round / statistics.median(s) for v, s in cpu.items()}
        unit = 10 if name.startswith("card") else 1
        print(f"{name:24} {rate['before'] * unit:10.1f} {rate['after'] * unit:10.1f} "
              f"{1000 / rate['after']:9.2f} {rate['after'] / rate['before']:6.2f}"
              + ("   (cards/s)" if unit == 10 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
