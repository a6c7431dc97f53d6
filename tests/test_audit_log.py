"""The audit log for people (issue 9 item 2): a label for every action the code writes, the
change as "before → after", objects as links, short device names, filters and the CSV."""
from __future__ import annotations

import ast
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.manager.audit_log import audit_lines, short_device
from wastebank.models import AuditLog, User
from wastebank.services.audit import ACTION_LABELS
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import set_member_active, update_member
from wastebank.services.org import create_user
from wastebank.services.stock import adjust_stock
from wastebank.services.transaction import run_in_transaction
from wastebank.timeutil import local_today

from .factories import PASSWORD

SOURCE = Path(__file__).resolve().parents[1] / "wastebank"
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


# Complexity over 10, kept: an AST walk with one branch per call shape it recognises.
def _written_actions() -> dict[str, str]:  # noqa: C901
    """Every action string the code passes to ``audit(...)`` or an ``_audit_*`` wrapper,
    found in the source (``{action: "file:line"}``). A wrapper passing its own parameter on
    is followed through its callers; ``operation.replace("_", ".")`` in withdrawals.py takes
    the ``void_*`` operations named in that file."""
    found: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name != "audit" and not name.startswith("_audit"):
                continue
            arg = node.args[0]
            literals = [c.value for c in ast.walk(arg) if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        and ACTION.match(c.value)]
            where = f"{path.relative_to(SOURCE)}:{node.lineno}"
            if literals:
                found.update({a: where for a in literals})
                continue
            func = parents.get(node)
            while func is not None and not isinstance(func, ast.FunctionDef):
                func = parents.get(func)
            if isinstance(arg, ast.Name) and func is not None and func.name.startswith("_audit") \
                    and arg.id in [a.arg for a in func.args.args]:
                continue  # a wrapper: its callers are scanned
            source = ast.unparse(arg)
            if source == "operation.replace('_', '.')":
                for op in re.findall(r'"(void_[a-z]+)"', text):
                    found[op.replace("_", ".")] = where
                continue
            raise AssertionError(f"{where}: audit action {source!r} cannot be read; write it as a literal")
    return found


def test_every_action_the_code_writes_has_a_label_and_every_label_is_written(app):
    written = _written_actions()
    assert len(written) >= 25 and "deposit.record" in written and "void.withdrawal" in written
    assert sorted(set(written) - set(ACTION_LABELS)) == [], "add these to services/audit.ACTION_LABELS"
    assert sorted(set(ACTION_LABELS) - set(written)) == [], "no code writes these any more"
    with app.test_request_context():
        for code, label in ACTION_LABELS.items():
            with force_locale("en"):
                english = str(label)
            with force_locale("id"):
                indonesian = str(label)
            assert english and indonesian != english, (code, english)
        with force_locale("id"):
            assert str(ACTION_LABELS["deposit.record"]) == "Setoran dicatat"
            assert str(ACTION_LABELS["price.set"]) == "Harga ditetapkan"


@pytest.mark.parametrize(("device", "indonesian", "english", "address"), [
    ("Mozilla/5.0 (Linux; Android 13; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 @ 10.0.0.7", "Chrome di Android", "Chrome on Android", "10.0.0.7"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Mobile/15E148 Safari/604.1 @ 192.168.1.4", "Safari di iOS", "Safari on iOS", "192.168.1.4"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 "
     "Safari/537.36 @ 127.0.0.1", "Chrome di Linux", "Chrome on Linux", "127.0.0.1"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0 @ -",
     "Firefox di Windows", "Firefox on Windows", ""),
    ("TabletPengurus/1.0 @ 127.0.0.1", "TabletPengurus", "TabletPengurus", "127.0.0.1"),
    ("cli", "Baris perintah", "Command line", ""),
    ("- @ 127.0.0.1", "Perangkat tidak dikenal", "Unknown device", "127.0.0.1"),
    ("", "Perangkat tidak dikenal", "Unknown device", ""),
])
def test_device_is_a_short_name(app, device, indonesian, english, address):
    with app.test_request_context():
        with force_locale("id"):
            assert short_device(device) == (indonesian, address)
        with force_locale("en"):
            assert short_device(device) == (english, address)


def _lines(action: str, viewer_unit_id=None):
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
    with force_locale("id"):
        return audit_lines(rows, viewer_unit_id)


def _texts(line) -> list[str]:
    return [c.text() for c in line.changes]


def test_changes_read_before_and_after(net, app):
    mgr = db.session.get(User, net.users["mgr_a"].id)
    member = net.members_a[0]
    run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("PET-CLEAN", "10")],
                                              operator_id=mgr.id, idempotency_key="audit-dep-01"))
    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["PET-CLEAN"], 3500, 4800,
                                         created_by_id=mgr.id))
    run_in_transaction(lambda: update_member(member, name="Siti Aminah Rahman", phone="", rt="03", rw="05",
                                             kind="household", user_id=mgr.id))
    run_in_transaction(lambda: set_member_active(member, False, user_id=mgr.id))
    run_in_transaction(lambda: adjust_stock(net.unit_a, net.categories["PET-CLEAN"], -2000, "basah", mgr))
    with app.test_request_context():
        deposit = _lines("deposit.record", net.unit_a.id)[-1]
        assert deposit.label == "Setoran dicatat"
        assert deposit.object_text.startswith("Setoran RW05-") and deposit.object_url.startswith("/counter/receipt/")
        assert f"Nasabah: {member.member_no} · Siti Aminah Rahman" in _texts(deposit)  # the name now
        assert "Rincian barang: Botol PET bening bersih 10 kg (Rp 32.500)" in _texts(deposit)
        assert "Total: Rp 32.500" in _texts(deposit)
        assert not any("entry" in t or "{" in t for t in _texts(deposit))

        price = _lines("price.set", net.unit_a.id)[-1]
        assert price.object_text == "Harga · Botol PET bening bersih"
        assert "Harga beli: Rp 3.250 → Rp 3.500" in _texts(price)
        assert "Harga jual: Rp 4.500 → Rp 4.800" in _texts(price)
        assert f"Berlaku mulai: 01-01-2024 → {local_today().strftime('%d-%m-%Y')}" in _texts(price)

        update = _lines("member.update", net.unit_a.id)[-1]
        assert update.object_url == f"/members/{member.member_no}"
        # Only what changed, each from the member's previous record (its registration).
        assert _texts(update) == ["Nama: Siti Aminah → Siti Aminah Rahman", "Jenis: Perorangan → Rumah tangga",
                                  "RT: – → 03"]
        assert _texts(_lines("member.deactivate")[-1]) == ["Status: aktif → nonaktif"]

        adjust = _lines("stock.adjust", net.unit_a.id)[-1]
        assert adjust.object_text == "Stok · Botol PET bening bersih" and adjust.object_url == "/manager/stock"
        assert "Stok: 10 kg → 8 kg" in _texts(adjust)
        assert "Nilai pokok: Rp 32.500 → Rp 26.000" in _texts(adjust)
        assert "Perubahan jumlah: -2 kg" in _texts(adjust) and "Alasan: basah" in _texts(adjust)

        # Another unit's viewer (an admin: None) gets text, no links.
        assert _lines("deposit.record")[-1].object_url is None


def test_screen_shows_labels_links_and_filters(net, client, login):
    mgr = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[1], [LineInput("CARDBOARD", "5")],
                                              operator_id=mgr.id, idempotency_key="audit-dep-02"))
    login("mgr_a")
    page = client.get("/manager/audit").get_data(as_text=True)
    assert "Setoran dicatat" in page and "Nasabah didaftarkan" in page
    assert 'data-action="deposit.record"' in page
    assert re.search(r'<a class="object" href="/counter/receipt/RW05-[^"]+">Setoran RW05-', page)
    assert f'href="/members/{net.members_a[1].member_no}"' in page
    table = page[page.index('id="audit"'):page.index("</table>", page.index('id="audit"'))]
    assert '{"' not in table and "&#34;" not in table and "_idr" not in table  # no raw JSON, no codes
    only = client.get("/manager/audit?action=deposit.record").get_data(as_text=True)
    assert set(re.findall(r'data-action="([^"]+)"', only)) == {"deposit.record"}
    family = client.get("/manager/audit?action=member").get_data(as_text=True)
    assert set(re.findall(r'data-action="([^"]+)"', family)) <= {a for a in ACTION_LABELS if a.startswith("member")}
    mine = client.get("/manager/audit?user=mgr_a").get_data(as_text=True)
    assert set(re.findall(r'data-action="([^"]+)"', mine)) == {"deposit.record"}
    today = client.get(f"/manager/audit?day={local_today().isoformat()}").get_data(as_text=True)
    assert 'data-action="deposit.record"' in today
    yesterday = client.get(f"/manager/audit?day={(local_today() - timedelta(days=1)).isoformat()}")
    assert yesterday.status_code == 200 and 'id="audit-empty"' in yesterday.get_data(as_text=True)
    assert client.get("/manager/audit?day=2026-02-30").status_code == 400
    assert client.get("/manager/audit?user=op_b").status_code == 400  # another unit's operator
    # The CSV link keeps the filters.
    assert 'href="/manager/audit.csv?user=mgr_a"' in mine


def test_csv_is_the_filtered_log_for_excel(net, client, login):
    mgr = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["CARDBOARD"], 2100, 2700,
                                         created_by_id=mgr.id))
    evil = run_in_transaction(lambda: create_user("petugas_x", "operator", PASSWORD, unit=net.unit_a,
                                                  full_name="@SUM(1+1)"))
    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["PET-CLEAN"], 3300, 4500,
                                         created_by_id=evil.id))
    login("mgr_a")
    response = client.get("/manager/audit.csv?action=price.set")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-RW05.csv"'
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:8] == ["Waktu", "Unit", "Oleh", "Tindakan", "Kode tindakan", "Objek", "Perubahan", "Perangkat"]
    body = rows[1:]
    # Newest first; only price.set rows (the catalogue's prices were set before, without a user).
    assert {r[4] for r in body} == {"price.set"} and body[0][3] == "Harga ditetapkan"
    assert body[0][2] == "'@SUM(1+1) (petugas_x)"  # a formula-looking cell is made text
    assert body[0][5] == "Harga · Botol PET bening bersih"
    assert "Harga beli: Rp 3.250 → Rp 3.300" in body[0][6]
    cardboard = next(r for r in body if r[5] == "Harga · Kardus" and "Rp 2.100" in r[6])
    assert "Harga beli: Rp 2.000 → Rp 2.100" in cardboard[6] and "Harga jual: Rp 2.600 → Rp 2.700" in cardboard[6]
    assert body[0][7] == "TabletPengurus" or body[0][7]  # device column present
    # The comma file and the machine file.
    comma = client.get("/manager/audit.csv?action=price.set&sep=comma").get_data().decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(comma)))[0] == "Waktu"
    codes = client.get("/manager/audit.csv?action=price.set&format=codes").get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(codes)))
    assert header == ["created_at", "unit", "username", "action", "object_type", "object_id", "details", "device"]
    # A manager's CSV never holds another unit's rows.
    everything = client.get("/manager/audit.csv").get_data().decode("utf-8-sig")
    units = {r[1] for r in list(csv.reader(io.StringIO(everything), delimiter=";"))[1:]}
    assert units == {"RW05"}
