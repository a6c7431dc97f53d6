"""A key no client could have used names nothing saved (services/idempotency.saved_answer): a
form field or an address as sent, whatever text it holds — on PostgreSQL a NUL byte in a query
is refused by the driver, which once made the withdrawal screen's ``?after=<key>`` a 500
(tests/test_input_sweep.py on PostgreSQL). Both databases."""
from __future__ import annotations

import pytest

from wastebank.services.idempotency import saved_answer


@pytest.mark.parametrize("key", ["Budi\x00", "kunci-yang-\x00-panjang", "short", "", "   ", None,
                                 "a" * 101, "kunci dengan spasi", "kunci,dua"])
def test_a_malformed_key_names_nothing(app, net, key):
    assert saved_answer(net.unit_a.id, key, "withdrawal") is None


@pytest.mark.parametrize("after", ["Budi%00", "%00%00%00%00%00%00%00%00", "x" * 300])
def test_the_withdrawal_screen_after_a_malformed_cancelled_key_is_the_plain_form(client, login, net, after):
    login("op_a")
    member_no = net.members_a[0].member_no
    page = client.get(f"/counter/member/{member_no}/withdraw?after={after}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="amount"' in html
    assert "Penarikan sebelumnya" not in html   # no earlier withdrawal is named
