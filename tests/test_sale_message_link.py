"""A sale saved, then its form saved again with the same key and other values (a weight
corrected after a lost reply): the refusal names the sale saved first and tells the manager to
open it in the sales list — "daftar penjualan" is a link to /manager/sales, and following it
shows that sale. The message is HTML built from the escaped translation and figures; only the
link is markup."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from wastebank.manager import views
from wastebank.models import Sale
from wastebank.extensions import db

from .conftest import csrf_token
from .test_forms_same_key import _count, _key, _sale_form


class _Links(HTMLParser):
    """The ``<a>`` elements inside ``<p class="error">``: (href, text)."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._in_error = 0
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "p" and "error" in (attrs.get("class") or "").split():
            self._in_error += 1
        elif tag == "a" and self._in_error:
            self._href, self._text = attrs.get("href"), ""

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text))
            self._href = None
        elif tag == "p" and self._in_error:
            self._in_error -= 1

    def handle_data(self, data):
        if self._href is not None:
            self._text += data


def _error_links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def _errors(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<p class="error" role="alert">(.*?)</p>', html, re.S)]


def test_the_refusal_links_daftar_penjualan_to_the_sales_list_which_shows_the_sale(net, client, login):
    data = _sale_form(net, client, login)
    assert client.post("/manager/sales/new", data=data).status_code == 302
    sale_no = db.session.scalar(select(Sale.sale_no))
    db.session.rollback()
    again = client.post("/manager/sales/new", data={**data, "w-CARDBOARD": "7,2"})
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert _errors(page) == [
        f"Penjualan ini sudah tersimpan ({sale_no}, Rp 17.500) sebelum koneksi putus, dengan isi sebelumnya. "
        "Tidak disimpan lagi: buka di daftar penjualan. Catat penjualan baru hanya jika memang penjualan lain "
        "(Penjualan → Penjualan baru)."]
    assert _error_links(page) == [("/manager/sales", "daftar penjualan")]
    assert '<a href="/manager/sales">daftar penjualan</a>' in page
    assert _key(page) == data["idempotency_key"]  # the key stays: saving again is refused again
    # Following the link: the sales list shows the sale saved first, linked to its page.
    listed = client.get("/manager/sales")
    text = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert f'<a href="/manager/sales/{sale_no}">{sale_no}</a>' in text
    assert "Pengepul Koran" in text and "Rp 17.500" in text
    assert _count(Sale, Sale.unit_id == net.unit_a.id) == 1


def test_in_english_the_link_reads_sales_list(net, client, login):
    data = _sale_form(net, client, login)
    assert client.post("/manager/sales/new", data=data).status_code == 302
    client.post("/lang/en", data={"csrf_token": data["csrf_token"]})
    page = client.get("/manager/sales/new").get_data(as_text=True)
    again = client.post("/manager/sales/new", data={**data, "w-CARDBOARD": "7,2", "csrf_token": csrf_token(page)})
    html = again.get_data(as_text=True)
    assert again.status_code == 409
    assert _error_links(html) == [("/manager/sales", "sales list")]
    assert "It is not saved again: open it in the sales list." in _errors(html)[0]


def test_the_figures_are_escaped_and_only_the_link_is_markup(app, net, monkeypatch):
    """What the stored answer holds is text: a sale number with markup in it would show as
    text, never as HTML (the stored answer is the server's own, but nothing in it is trusted)."""
    monkeypatch.setattr(views.idempotency, "saved_answer",
                        lambda unit_id, key, operation: {"sale_no": '<img src=x onerror="alert(1)">',
                                                         "total_idr": 17500})

    class _Form:
        class idempotency_key:  # noqa: N801 - the shape of a WTForms field
            data = "k" * 32

    with app.test_request_context("/manager/sales/new"):
        message = views._already_saved(net.unit_a, _Form, "sale")
    assert hasattr(message, "__html__")
    assert "<img" not in message
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in message
    assert message.count("<a ") == 1 and '<a href="/manager/sales">' in message
