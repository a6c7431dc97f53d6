"""Government exports (issue 12 items 2 and 3): the SIPSN tonnage CSV and the levy-exemption
list — conversions with real numbers, reconciliation with the aggregator statement, the refusal
for a category without a kilogram factor, scope, roles and the audit row. docs/exports.md."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Aggregator, AuditLog, Unit, WasteCategory, clock_at
from wastebank.reports.levy import levy_list, levy_table
from wastebank.reports.sipsn import MissingKgFactor, grams_of, sipsn_report, sipsn_table
from wastebank.reports.statements import aggregator_statement
from wastebank.services.catalog import load_catalogue, parse_kg_factor
from wastebank.services.members import create_member
from wastebank.services.org import create_aggregator, create_unit, create_user
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.timeutil import local_today

from .conftest import RequestIsolatingClient, csrf_token
from .factories import PASSWORD
from .report_helpers import at, deposit, void


def _rows(body: bytes, sep: str) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), "BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=sep))


def _by_unit(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def _as(app, username: str):
    """A fresh test client logged in as ``username`` through the real form."""
    app.test_client_class = RequestIsolatingClient
    client = app.test_client()
    page = client.get("/login")
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 302, username
    return client


def _units(code="JKT"):
    agg = db.session.scalar(select(Aggregator).where(Aggregator.code == code))
    return agg, list(db.session.scalars(select(Unit).where(Unit.aggregator_id == agg.id).order_by(Unit.code)))


# --- factors -------------------------------------------------------------------------------------


def test_grams_of_converts_pieces_and_litres_with_integers():
    assert grams_of(2_500, "kg", None) == 2_500            # grams already
    assert grams_of(12_000, "pcs", 250) == 3_000           # 12 bottles × 250 g
    assert grams_of(1_500, "L", 910) == 1_365              # 1,5 L × 910 g/L
    assert grams_of(1, "pcs", 500) == 1                    # 0,5 g rounds half up
    assert grams_of(1, "pcs", 499) == 0
    assert grams_of(-12_000, "pcs", 250) == -3_000         # a void from an earlier month
    assert grams_of(-1, "pcs", 500) == -1                  # half away from zero, symmetric
    with pytest.raises(ValueError):
        grams_of(1_000, "L", None)


def test_catalogue_carries_factors_with_their_sources(net):
    bottle, oil, pet = (net.categories[c] for c in ("GLASS-BOTTLE", "UCO", "PET-CLEAN"))
    assert (bottle.unit, bottle.kg_factor_g) == ("pcs", 250) and "Friends of Glass" in bottle.kg_factor_source
    assert (oil.unit, oil.kg_factor_g) == ("L", 910) and "Codex CXS 210-1999" in oil.kg_factor_source
    assert (pet.unit, pet.kg_factor_g, pet.kg_factor_source) == ("kg", None, "")
    # Every pcs/L category of the shipped catalogue has a factor and a source.
    for cat in db.session.scalars(select(WasteCategory).where(WasteCategory.unit != "kg")):
        assert cat.kg_factor_g and cat.kg_factor_source, cat.code


def test_catalogue_loader_refuses_bad_factors(app):
    assert parse_kg_factor("pcs", "250") == 250 and parse_kg_factor("L", "") is None
    assert parse_kg_factor("kg", "1000") is None and parse_kg_factor("kg", "") is None
    for unit, text in (("kg", "500"), ("pcs", "0"), ("pcs", "0,25"), ("L", "-3"), ("pcs", "2.5")):
        with pytest.raises(ValueError):
            parse_kg_factor(unit, text)
    head = ("code,name_id,name_en,unit,material_group,buy_price_idr,sell_price_idr,co2e_kg_per_unit,"
            "co2e_source,kg_factor_g,kg_factor_source\n")
    with pytest.raises(ValueError, match="row 2: kg_factor_g needs its kg_factor_source"):
        load_catalogue(head + "JAR,Toples kaca,Glass jar,pcs,glass,100,150,0,-,300,\n")
    db.session.rollback()
    # A catalogue without the factor columns leaves factors as they are.
    load_catalogue(head + "JAR,Toples kaca,Glass jar,pcs,glass,100,150,0,-,300,my scale 2026\n")
    old = head.replace(",kg_factor_g,kg_factor_source", "")
    (jar, _b, _s), = load_catalogue(old + "JAR,Toples kaca,Glass jar,pcs,glass,100,150,0,-\n")
    assert (jar.kg_factor_g, jar.kg_factor_source) == (300, "my scale 2026")


# --- SIPSN tonnage ---------------------------------------------------------------------------------


@pytest.fixture
def november(net):
    """November 2026 at RW05 and RW07: kg, pcs and L deposits, a void, a sale."""
    a, b = net.unit_a, net.unit_b
    m1, m2, _m3 = net.members_a
    deposit(a, m1, [("PET-CLEAN", "2,5"), ("GLASS-BOTTLE", "12"), ("UCO", "1,5")], at(2026, 11, 3))
    deposit(a, m1, [("CARDBOARD", "10"), ("ALU-CAN", "0,75")], at(2026, 11, 4))
    wrong = deposit(a, m2, [("GLASS-BOTTLE", "7")], at(2026, 11, 5))
    void(wrong, at(2026, 11, 5, 11), net.users["mgr_a"])
    deposit(b, net.members_b[0], [("HVS", "3,2"), ("GLASS-BOTTLE", "3"), ("FILM", "0,4")], at(2026, 11, 6))
    deposit(a, m1, [("PET-CLEAN", "9")], at(2026, 12, 1, 0, 0))    # December: not counted
    with clock_at(at(2026, 11, 20, 9)):
        buyer = create_offtaker(a, "Pengepul Jaya")
        sale = record_sale(a, buyer, [SaleLineInput("CARDBOARD", "10", "9,5", "2600"),
                                      SaleLineInput("GLASS-BOTTLE", "12", "", "400")], "cash",
                           user=net.users["mgr_a"], idempotency_key=uuid.uuid4().hex)
        assert sale.status == 201, sale.body
    db.session.commit()
    return net


def test_sipsn_converts_pieces_and_litres_with_real_numbers(november):
    _agg, units = _units()
    report = sipsn_report(units, 2026, 11)
    rw05, rw07 = report.units
    assert (rw05.code, rw05.kelurahan, rw05.kecamatan, rw05.kota) == (
        "RW05", "Cempaka Putih Barat", "Cempaka Putih", "Jakarta Pusat")
    # RW05: PET 2,5 kg; 12 bottles × 250 g = 3 kg (the voided 7 bottles cancel); 1,5 L × 910 g = 1,365 kg;
    # cardboard 10 kg; aluminium 0,75 kg.
    assert rw05.collected_g == {"plastic": 2_500, "paper": 10_000, "metal": 750, "glass": 3_000, "oil": 1_365,
                                "other": 0}
    assert rw05.collected_total_g == 17_615
    # Sold: 9,5 kg of cardboard accepted (of 10 weighed) and 12 bottles = 3 kg.
    assert rw05.sold_g == {"plastic": 0, "paper": 9_500, "metal": 0, "glass": 3_000, "oil": 0, "other": 0}
    assert rw05.active_members == 0  # 2 deposits, threshold 4
    assert rw07.collected_g["paper"] == 3_200 and rw07.collected_g["glass"] == 750
    assert rw07.collected_g["plastic"] == 400
    assert report.total.collected_total_g == 17_615 + 4_350 and report.total.sold_total_g == 12_500
    assert sorted(c.code for c in report.factors) == ["GLASS-BOTTLE", "UCO"]


def test_sipsn_csv_people_and_codes(november, app):
    _agg, units = _units()
    report = sipsn_report(units, 2026, 11)
    from flask_babel import force_locale

    from wastebank.reports.csvfile import csv_bytes
    with app.test_request_context(), force_locale("id"):
        names = _rows(csv_bytes(*sipsn_table(report, "names"), sep=";"), ";")
    header = names[0]
    assert header[:7] == ["Bulan", "Unit", "Nama", "Kelurahan", "Kecamatan", "Kota", "Aktif (≥ 4 setoran)"]
    assert "Plastik terkumpul (kg)" in header and "Kaca terjual (kg)" in header
    rw05 = _by_unit(names)["RW05"]
    assert rw05["Kaca terkumpul (kg)"] == "3" and rw05["Minyak jelantah terkumpul (kg)"] == "1,365"
    assert rw05["Kertas terjual (kg)"] == "9,5" and rw05["Total terkumpul (kg)"] == "17,615"
    assert names[-1][1] == "Total"
    codes = _rows(csv_bytes(*sipsn_table(report, "codes"), sep=","), ",")
    by = _by_unit(codes)
    assert by["RW05"]["oil_collected_g"] == "1365" and by["RW05"]["paper_sold_g"] == "9500"
    assert by["TOTAL"]["collected_total_g"] == str(17_615 + 4_350)


def test_sipsn_reconciles_with_the_aggregator_statement_on_demo_data(app, tmp_path):
    from wastebank.demo import load_demo

    load_demo(members=60, days=40, echo=lambda *_: None)
    today = local_today()
    last = today.replace(day=1) - timedelta(days=1)
    agg, units = _units(db.session.scalar(select(Aggregator.code)))
    report = sipsn_report(units, last.year, last.month)
    st = aggregator_statement(agg, last.year, last.month)
    cats = {c.id: c for c in db.session.scalars(select(WasteCategory))}
    assert [r.code for r in report.units] == [f.code for f in st.units]
    kinds_seen = set()
    for row, fig in zip(report.units, st.units, strict=True):
        expected = sum(grams_of(cf.quantity_milli, cats[c].unit, cats[c].kg_factor_g)
                       for c, cf in fig.categories.items())
        assert row.collected_total_g == expected, row.code
        # The kilogram categories alone: the statement's grams exactly, group by group.
        for group in ("plastic", "paper", "metal"):
            assert row.collected_g[group] == sum(cf.quantity_milli for c, cf in fig.categories.items()
                                                 if cats[c].material_group == group), (row.code, group)
        assert row.active_members == fig.active_members
        kinds_seen |= {cats[c].unit for c in fig.categories}
    assert {"kg", "pcs", "L"} <= kinds_seen  # the demo has bottles and cooking oil too
    assert report.total.collected_total_g > 0 and report.total.active_members == st.total.active_members

    # The command writes the same figures.
    out = tmp_path / "sipsn.csv"
    result = app.test_cli_runner().invoke(args=["export", "sipsn", last.strftime("%Y-%m"), "--aggregator",
                                                agg.code.lower(), "--out", str(out), "--format", "codes"])
    assert result.exit_code == 0, result.output
    assert f"collected {report.total.collected_total_g} g" in result.output
    rows = _by_unit(_rows(out.read_bytes(), ","))
    assert int(rows["TOTAL"]["collected_total_g"]) == report.total.collected_total_g
    assert int(rows["TOTAL"]["active_members"]) == st.total.active_members
    for fig in st.units:
        assert int(rows[fig.code]["active_members"]) == fig.active_members


def test_sipsn_refuses_a_category_without_factor(november, app, client, login):
    oil = november.categories["UCO"]
    oil.kg_factor_g = None
    db.session.commit()
    _agg, units = _units()
    with pytest.raises(MissingKgFactor) as refused:
        sipsn_report(units, 2026, 11)
    assert refused.value.categories == ["UCO"]
    # A month without cooking oil is not refused.
    assert sipsn_report(units, 2026, 10).total.collected_total_g == 0
    result = app.test_cli_runner().invoke(args=["export", "sipsn", "2026-11", "--out", "x.csv"])
    assert result.exit_code == 1
    assert "Belum ada faktor kilogram untuk Minyak jelantah (UCO, L)" in result.output
    login("agg")
    page = client.get("/statements/aggregator/JKT/2026-11/sipsn.csv")
    assert page.status_code == 409
    assert "Belum ada faktor kilogram untuk Minyak jelantah (UCO, L)" in page.get_data(as_text=True)


def test_sipsn_download_scope_and_roles(november, app, client, login):
    other = create_aggregator("BDG", "Bank Sampah Bandung")
    create_unit("BDG01", "Bank Sampah Cibeunying", aggregator=other)
    create_user("agg_bdg", "aggregator_staff", PASSWORD, aggregator=other)
    db.session.commit()
    login("agg")
    page = client.get("/statements?aggregator=JKT&month=2026-11")
    html = page.get_data(as_text=True)
    assert "Tonase untuk DLH / SIPSN (CSV)" in html and "/statements/aggregator/JKT/2026-11/sipsn.csv" in html
    assert "/reports/levy/RW05/2026-11.csv" in html and "/reports/levy/RW07/2026-11.csv" in html
    got = client.get("/statements/aggregator/JKT/2026-11/sipsn.csv")
    assert got.status_code == 200 and got.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="sipsn-JKT-2026-11.csv"' in got.headers["Content-Disposition"]
    rows = _rows(got.data, ";")
    assert rows[0][3:6] == ["Kelurahan", "Kecamatan", "Kota"] and len(rows) == 4
    codes = client.get("/statements/aggregator/JKT/2026-11/sipsn.csv?format=codes")
    assert _by_unit(_rows(codes.data, ","))["RW05"]["glass_collected_g"] == "3000"
    assert client.get("/statements/aggregator/BDG/2026-11/sipsn.csv").status_code == 404
    assert client.get("/statements/aggregator/JKT/2026-13/sipsn.csv").status_code == 404
    for username in ("collab", "op_a", "mgr_a"):
        assert _as(app, username).get("/statements/aggregator/JKT/2026-11/sipsn.csv").status_code == 403, username
    client = _as(app, "admin")
    page = client.get("/statements?aggregator=JKT&month=2026-11").get_data(as_text=True)
    assert "sipsn.csv" in page and "/reports/levy/" not in page   # no personal data for admins
    assert client.get("/statements/aggregator/BDG/2026-11/sipsn.csv").status_code == 200


# --- levy-exemption list -----------------------------------------------------------------------------


@pytest.fixture
def levy_month(net):
    """November 2026 at RW05: three active households in two RTs, one that falls short by a void."""
    a = net.unit_a
    people = [create_member(a, name, address=addr, rt=rt, rw="05", kind=kind) for name, addr, rt, kind in (
        ("Keluarga Hartono", "Jl. Melati No. 12", "03", "household"),
        ("Ibu Ratna", "Jl. Melati Gg. II No. 4", "01", "person"),
        ("Keluarga Sitompul", "Jl. Melati No. 30", "03", "household"),
        ("Pak Darmo", "Jl. Melati No. 2", "01", "person"),
    )]
    db.session.flush()
    hartono, ratna, sitompul, darmo = people
    for member, days in ((hartono, (2, 9, 16, 23)), (ratna, (3, 10, 17, 24, 28)), (sitompul, (4, 11, 18, 25)),
                         (darmo, (5, 12, 19))):
        for day in days:
            last = deposit(a, member, [("PET-CLEAN", "1")], at(2026, 11, day))
    void(last, at(2026, 11, 26), net.users["mgr_a"])                         # Pak Darmo: 2 net
    extra = deposit(a, sitompul, [("PET-CLEAN", "1")], at(2026, 11, 29))
    void(extra, at(2026, 12, 2), net.users["mgr_a"])                         # voided in December
    deposit(a, darmo, [("PET-CLEAN", "1")], at(2026, 12, 1, 0, 0))           # December
    deposit(net.unit_b, net.members_b[0], [("PET-CLEAN", "1")], at(2026, 11, 2))
    db.session.commit()
    return net, people


def test_levy_list_households_equal_the_statements_active_members(levy_month):
    net, (hartono, ratna, sitompul, _darmo) = levy_month
    levy = levy_list(net.unit_a, 2026, 11)
    st = aggregator_statement(db.session.scalar(select(Aggregator)), 2026, 11)
    rw05 = next(f for f in st.units if f.code == "RW05")
    assert len(levy.households) == rw05.active_members == 3
    assert [(h.rw, h.rt, h.member_no, h.name, h.address, h.deposits) for h in levy.households] == [
        ("05", "01", ratna.member_no, "Ibu Ratna", "Jl. Melati Gg. II No. 4", 5),
        ("05", "03", hartono.member_no, "Keluarga Hartono", "Jl. Melati No. 12", 4),
        ("05", "03", sitompul.member_no, "Keluarga Sitompul", "Jl. Melati No. 30", 5),
    ]
    assert [(rw, rt, len(h)) for rw, rt, h in levy.groups()] == [("05", "01", 1), ("05", "03", 2)]
    header, rows = levy_table(levy, "codes")
    assert header == ["unit", "month", "rw", "rt", "member_no", "name", "kind", "address", "deposits"]
    assert rows[1] == ["RW05", "2026-11", "05", "03", hartono.member_no, "Keluarga Hartono", "household",
                       "Jl. Melati No. 12", 4]
    # December: Sitompul's November extra deposit is voided in December (−1), Darmo deposits once.
    assert levy_list(net.unit_a, 2026, 12).households == []


def test_levy_threshold_is_the_active_setting(levy_month, app):
    net, _people = levy_month
    app.config["ACTIVE_MEMBER_MIN_DEPOSITS"] = 2
    levy = levy_list(net.unit_a, 2026, 11)
    rw05 = next(f for f in aggregator_statement(db.session.scalar(select(Aggregator)), 2026, 11).units
                if f.code == "RW05")
    assert len(levy.households) == rw05.active_members == 4 and levy.min_deposits == 2
    assert "Pak Darmo" in [h.name for h in levy.households]


def _levy_audits():
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "export.levy").order_by(AuditLog.id)))


def test_levy_download_roles_scope_and_audit(levy_month, app, client, login):
    net, _people = levy_month
    login("mgr_a")
    got = client.get("/reports/levy/RW05/2026-11.csv")
    assert got.status_code == 200
    assert 'filename="levy-exemption-RW05-2026-11.csv"' in got.headers["Content-Disposition"]
    rows = _rows(got.data, ";")
    assert rows[0][2:4] == ["RW", "RT"] and rows[0][-1] == "Setoran (aktif bila ≥ 4)"
    assert [r[5] for r in rows[1:]] == ["Ibu Ratna", "Keluarga Hartono", "Keluarga Sitompul"]
    (row,) = _levy_audits()
    assert (row.unit_id, row.user_id, row.object_id) == (net.unit_a.id, net.users["mgr_a"].id, "RW05")
    assert '"households": 3' in row.details and "Ratna" not in row.details
    report = client.get("/reports/unit?unit=RW05&month=2026-11").get_data(as_text=True)
    assert "/reports/levy/RW05/2026-11.csv" in report and "Daftar pembebasan retribusi (CSV)" in report
    assert client.get("/reports/levy/RW07/2026-11.csv").status_code == 404
    assert client.get("/reports/levy/NOPE/2026-11.csv").status_code == 404
    assert client.get("/reports/levy/RW05/11-2026.csv").status_code == 404
    assert _as(app, "agg").get("/reports/levy/RW07/2026-11.csv?format=codes").status_code == 200
    assert [a.object_id for a in _levy_audits()] == ["RW05", "RW07"]
    for username in ("collab", "op_a", "admin"):
        assert _as(app, username).get("/reports/levy/RW05/2026-11.csv").status_code == 403, username
    assert len(_levy_audits()) == 2  # refusals leave no audit row
    report = _as(app, "admin").get("/reports/unit?unit=RW05&month=2026-11").get_data(as_text=True)
    assert "/reports/levy/" not in report  # admin: unit report, without the personal-data list


def test_levy_command_writes_the_list_and_an_audit_row(levy_month, app, tmp_path):
    out = tmp_path / "levy.csv"
    result = app.test_cli_runner().invoke(args=["export", "levy", "2026-11", "--unit", "rw05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "levy RW05 2026-11: 3 active households (≥ 4 deposits); RW 05/RT 01: 1, RW 05/RT 03: 2" in result.output
    rows = _rows(out.read_bytes(), ";")
    assert [r[5] for r in rows[1:]] == ["Ibu Ratna", "Keluarga Hartono", "Keluarga Sitompul"]
    (row,) = _levy_audits()
    assert (row.device, row.user_id, row.object_id) == ("cli", None, "RW05")
    bad = app.test_cli_runner().invoke(args=["export", "levy", "2026-13", "--unit", "RW05"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
    assert app.test_cli_runner().invoke(args=["export", "levy", "2026-11", "--unit", "XX99"]).exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export.levy")) == 1
