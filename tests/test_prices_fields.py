"""One category's price form (/manager/prices/<CODE>, found by a tester, cashbook fix 3): a
refusal names its field (beli/jual) and marks it (``aria-invalid`` and the message next to it);
an empty sell price is "not set yet" (docs/prices.md: sell 0 = not set), and the page says so
instead of "jual Rp 0"."""
import re

from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Price
from wastebank.services.catalog import current_prices

from .conftest import csrf_token


def _rows() -> int:
    count = db.session.scalar(select(func.count(Price.id)))
    db.session.rollback()
    return count


def _input(html: str, name: str) -> str:
    return re.search(rf'<input name="{name}"[^>]*>', html).group(0)


def test_a_bad_price_names_and_marks_its_field(net, client, login):
    login("mgr_a")
    page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
    before = _rows()
    for field, other, label in (("sell", "buy", "Harga jual"), ("buy", "sell", "Harga beli")):
        values = {"buy": "3400", "sell": "4500", field: "3,5"}
        refused = client.post("/manager/prices/PET-CLEAN", data={"csrf_token": csrf_token(page), **values})
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422
        assert f'<p class="error" role="alert">{label}: Hanya rupiah bulat, mis. 3.250.</p>' in html
        assert 'aria-invalid="true"' in _input(html, field) and f'aria-describedby="{field}-error' in _input(
            html, field)
        assert f'id="{field}-error">Hanya rupiah bulat, mis. 3.250.</p>' in html
        assert 'aria-invalid' not in _input(html, other) and f'id="{other}-error"' not in html
        assert 'value="3,5"' in _input(html, field)  # what she typed stays on the form
    empty_buy = client.post("/manager/prices/PET-CLEAN", data={"csrf_token": csrf_token(page), "buy": "",
                                                               "sell": "4500"})
    html = empty_buy.get_data(as_text=True)
    assert empty_buy.status_code == 422 and "Harga beli: Masukkan nominal rupiah." in html
    assert 'aria-invalid="true"' in _input(html, "buy")
    assert _rows() == before


def test_an_empty_sell_price_is_saved_as_not_set_and_said_so(net, client, login):
    login("mgr_a")
    page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
    assert "Kosongkan jika harga dari pembeli belum diketahui." in page
    saved = client.post("/manager/prices/PET-CLEAN", data={"csrf_token": csrf_token(page), "buy": "3400",
                                                           "sell": ""}, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert "beli Rp 3.400 per kg, harga jual belum diisi" in html and "jual Rp 0" not in html
    assert 'id="in-force">Berlaku: beli Rp 3.400 per kg, harga jual belum diisi<' in html
    assert 'value=""' in _input(html, "sell")  # not "0": saving again keeps it unset
    history = html.split('id="price-history"')[1]
    assert '<td class="num"><span class="muted">belum diisi</span></td>' in history
    price = current_prices(net.unit_a.id)[net.categories["PET-CLEAN"].id]
    assert (price.buy_price_idr, price.sell_price_idr) == (3400, 0)
    db.session.rollback()
    with_sell = client.post("/manager/prices/PET-CLEAN", data={"csrf_token": csrf_token(page), "buy": "3400",
                                                               "sell": "4.600"}, follow_redirects=True)
    assert "beli Rp 3.400, jual Rp 4.600 per kg" in with_sell.get_data(as_text=True)


def test_the_price_list_says_an_unset_sell_price_is_not_set(net, client, login):
    """The bulk price list (/manager/prices) shows an unset sell price as 'belum diisi', as the
    category's own page does, never 'Rp 0/kg' (left open by the price page's fix)."""
    login("mgr_a")
    page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
    client.post("/manager/prices/PET-CLEAN", data={"csrf_token": csrf_token(page), "buy": "3400", "sell": ""})
    html = client.get("/manager/prices").get_data(as_text=True)
    row = html.split('id="price-PET-CLEAN"')[1].split("</tr>")[0]
    assert '<td class="num sell"><span class="muted">belum diisi</span></td>' in row
    assert "Rp 3.400/kg" in row and "Rp 0" not in row
