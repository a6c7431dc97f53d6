"""Unit reports for unit managers (issue 5) and C14: another unit's figures never appear."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from wastebank.extensions import db
from wastebank.models import clock_at
from wastebank.reports.unit import active_members, daily_summary, dormant_members, monthly_summary, top_categories
from wastebank.services.members import create_member

from .report_helpers import at, deposit


@pytest.fixture
def activity(net):
    """RW05: member 1 deposits 4× in March 2025 (active), member 2 once; RW07: 5× by one member."""
    a, b = net.unit_a, net.unit_b
    with clock_at(at(2024, 6, 1)):
        old = create_member(a, "Lama Tidak Setor")
    m1, m2, _ = net.members_a
    for day in (3, 10, 17, 24):
        deposit(a, m1, [("PET-CLEAN", "2")], at(2025, 3, day))
    deposit(a, m2, [("CARDBOARD", "5")], at(2025, 3, 10, 15))
    for day in (1, 2, 3, 4, 5):
        deposit(b, net.members_b[0], [("PET-CLEAN", "99")], at(2025, 3, day))
    db.session.commit()
    return old


def test_daily_monthly_top_and_active(activity, net):
    a = net.unit_a
    day_fig, _ = daily_summary(a, date(2025, 3, 10))
    assert day_fig.deposits == 2 and day_fig.deposit_value_idr == 6500 + 10000
    month_fig, cats = monthly_summary(a, 2025, 3)
    assert month_fig.deposits == 5 and month_fig.active_members == 1
    top = top_categories(month_fig, cats)
    assert [c.code for c, _ in top] == ["PET-CLEAN", "CARDBOARD"] and top[0][1].value_idr == 4 * 6500
    assert [(m.member_no, m.deposits) for m in active_members(a, 2025, 3)] == [(net.members_a[0].member_no, 4)]


def test_dormant_members(activity, net):
    rows = dormant_members(net.unit_a, date(2025, 7, 1))
    numbers = [r.member_no for r in rows]
    assert activity.member_no in numbers  # never deposited, registered a year ago
    assert net.members_a[0].member_no not in numbers  # registered "now", after the cut-off


def test_manager_page_and_active_csv(activity, net, client, login):
    login("mgr_a")
    page = client.get("/reports/unit?month=2025-03&day=2025-03-10")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Melati" in html and net.members_a[0].name in html and "Mawar" not in html
    response = client.get("/reports/unit/active.csv?month=2025-03")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Unit", "Bulan", "No. nasabah", "Nama", "Setoran"]
    assert rows[1:] == [["RW05", "2025-03", net.members_a[0].member_no, net.members_a[0].name, "4"]]
    response = client.get("/reports/unit/active.csv?month=2025-03&format=codes")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["unit", "month", "member_no", "name", "deposits"]
    assert rows[1:] == [["RW05", "2025-03", net.members_a[0].member_no, net.members_a[0].name, "4"]]


@pytest.mark.parametrize("query", ["unit=RW07", "unit=rw07", "unit=all", "unit=*", "unit=2", "unit=RW05,RW07"])
def test_c14_manager_asks_for_another_unit(activity, net, client, login, query):
    login("mgr_a")
    for path in ("/reports/unit", "/reports/unit/active.csv"):
        response = client.get(f"{path}?{query}&month=2025-03")
        assert response.status_code == 404, (path, query)
        body = response.get_data(as_text=True)
        assert "Mawar" not in body and net.members_b[0].name not in body and "643.500" not in body


def test_c14_operator_gets_403_and_own_unit_only(activity, net, client, login):
    login("op_a")
    for url in ("/reports/unit", "/reports/unit?unit=RW07", "/reports/unit/active.csv?unit=RW07",
                "/statements/aggregator/JKT/2025-03.csv", "/api/v1/statements/aggregator/JKT/2025-03"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert net.members_b[0].name not in response.get_data(as_text=True)


def test_aggregator_staff_may_open_their_units_reports(activity, net, client, login):
    login("agg")
    assert client.get("/reports/unit?unit=RW07&month=2025-03").status_code == 200
    assert client.get("/reports/unit").status_code == 404  # no own unit: must name one
