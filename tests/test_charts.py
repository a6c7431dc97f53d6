"""Charts people read (issue 9 item 5): the impact dashboard and the unit report describe their
charts with visible titles, axis labels, category names (not codes) and figures in the reader's
locale ("6.339,88" in Indonesian); Chart.js draws them from a JSON block (no inline script) and
a table carries the same figures. The browser check looks at the drawn canvases at 800×1280 and
1280×800 and saves screenshots in test-artifacts/.
"""
from __future__ import annotations

import json
import re

import pytest

from wastebank.reports.charts import impact_charts, number_text
from wastebank.reports.impact import impact_statement

from .test_browser import browser, log_in, sized_context  # noqa: F401  (browser is a fixture)
from .test_pdf_documents import big  # noqa: F401  (fixture: six members, 6.259,88 kg of PET)

CODES = ("PET-CLEAN", "CARDBOARD", "GLASS-BOTTLE", "ALU-CAN", "UCO")


def _chart_json(html: str) -> list[dict]:
    block = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert block, html
    return json.loads(block.group(1))


def test_number_text_groups_in_the_readers_locale():
    assert number_text(5000, "id") == "5.000" and number_text(5000, "en") == "5,000"
    assert number_text(6259.88, "id") == "6.259,88" and number_text(6259.88, "en") == "6,259.88"
    assert number_text(None, "id") == "—"


def test_impact_chart_data_has_names_and_indonesian_numbers(big, app):
    from wastebank.models import Collaborator
    from wastebank.extensions import db
    collab = db.session.scalar(db.select(Collaborator).where(Collaborator.name.startswith("CSR Hijau")))
    st = impact_statement(collab, (2025, 1), (2025, 1))
    month, mix, co2e = impact_charts(st, "id")
    assert (month.kind, month.title, month.axis) == ("bar", "Kilogram sampah terkelola per bulan", "kg")
    assert month.labels == ("2025-01",) and month.values == (6339.88,) and month.texts == ("6.339,88",)
    assert mix.kind == "pie" and mix.labels[0] == "Botol PET bening bersih" and mix.texts[0] == "6.269,88"
    assert "Kardus" in mix.labels and "Botol kaca utuh" not in mix.labels  # pieces are not kilograms
    assert co2e.kind == "hbar" and co2e.texts[co2e.labels.index("Botol PET bening bersih")] == "7.210,362"
    assert not any(code in label for chart in (month, mix, co2e) for label in chart.labels for code in CODES)
    english = impact_charts(st, "en")
    assert english[1].labels[0] == "PET bottle, clear, clean" and english[0].texts == ("6,339.88",)


def test_impact_page_carries_chart_data_without_inline_script(big, client, login):
    login("collab")
    html = client.get("/impact?from=2025-01&to=2025-01").get_data(as_text=True)
    charts = _chart_json(html)
    assert [c["key"] for c in charts] == ["kg-month", "mix", "co2e"]
    assert charts[0]["texts"] == ["6.339,88"] and "Botol PET bening bersih" in charts[1]["labels"]
    # Visible titles and the table fallback with the same figures; kg with thousands marks.
    assert '<figcaption id="chart-kg-month-title" class="chart-title">Kilogram sampah terkelola per bulan' in html
    assert "<td class=\"num\">6.339,88</td>" in html and "6.339,88 kg" in html
    assert "sebelum potongan unit" in html  # the caption telling the two rupiah totals apart
    # Every script is a file or a JSON data block (a CSP without 'unsafe-inline' holds).
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_unit_report_charts_a_six_month_trend_and_the_mix(big, client, login):
    login("mgr_a")
    html = client.get("/reports/unit?month=2025-01").get_data(as_text=True)
    trend, mix = _chart_json(html)
    assert trend["labels"] == ["2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01"]
    assert trend["texts"][-1] == "6.339,88" and trend["axis"] == "kg"
    assert mix["labels"][0] == "Botol PET bening bersih" and not any(c in json.dumps(mix) for c in CODES)


@pytest.mark.browser
def test_charts_are_drawn_at_tablet_and_laptop_sizes(big, browser, live_server, net):
    from .test_browser import ARTIFACTS

    drawn = """() => Array.from(document.querySelectorAll('canvas[id^=chart-]')).map((c) => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted += 1; } }
        return {id: c.id, w: c.clientWidth, h: c.clientHeight, painted};
      })"""
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((800, 1280), (1280, 800)):
        for user, url, name, count in (("collab", "/impact?from=2025-01&to=2025-01", "impact", 3),
                                       ("mgr_a", "/reports/unit?month=2025-01", "unit-report", 2)):
            context = sized_context(browser, live_server, width, height)
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            log_in(page, user)
            page.goto(url)
            page.wait_for_function("document.querySelectorAll('figure.chart-drawn').length >= %d" % count)
            canvases = page.evaluate(drawn)
            page.locator(".charts").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"charts-{name}-{width}x{height}.png"), full_page=True)
            assert len(canvases) == count, canvases
            for canvas in canvases:
                assert canvas["w"] > 200 and canvas["h"] >= 250 and canvas["painted"] > 500, canvas
                assert canvas["w"] <= width, canvas
            assert not errors, errors
            context.close()
