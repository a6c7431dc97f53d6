"""One HTTP edge (issue 11 item 5): one table and one handler for pages and the API, one bearer
parser read by Flask-Login's request loader, records fetched within the caller's unit."""
from __future__ import annotations

import ast
from pathlib import Path

from wastebank.api.errors import HTTP_ERRORS
from wastebank.auth.tokens import create_token
from wastebank.extensions import db

PACKAGE = Path(__file__).resolve().parent.parent / "wastebank"


def test_extensions_import_nothing_from_wastebank():
    tree = ast.parse((PACKAGE / "extensions.py").read_text())
    relative = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    absolute = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("wastebank")]
    assert relative == [] and absolute == []


def test_no_private_flask_login_call():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for private in ("login_manager._", "_get_user(", "_load_user(", "_login_user",
                        "_update_request_context_with_user"):
            assert private not in text, (path, private)


def test_a_page_and_the_api_answer_the_same_status_from_the_one_table(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "Tidak ditemukan." in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404
    assert api.get_json() == {"error": {"code": HTTP_ERRORS[404].code, "message": "Tidak ditemukan.",
                                        "field": None}}
    refused = client.put("/api/v1/prices")
    assert refused.status_code == 405
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert refused.get_json()["error"]["code"] == "method_not_allowed"
    page = client.put("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
    assert "Tindakan ini tidak diizinkan di sini." in page.get_data(as_text=True)


def test_401_differs_for_people_and_devices(client):
    api = client.get("/api/v1/prices")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"] == 'Bearer realm="wastebank"'
    assert api.get_json()["error"] == {"code": "unauthorized", "field": None,
                                       "message": "Silakan masuk, atau kirim Authorization: Bearer <token>."}


def test_a_bearer_token_alone_decides_beside_another_users_cookie(client, login, net):
    token = create_token(net.users["op_b"], "edge")
    db.session.commit()
    login("op_a")
    # The session alone: op_a's unit.
    assert client.get("/api/v1/prices").get_json()["unit"] == net.unit_a.code
    # With op_b's bearer token the cookie does not count: op_b's unit.
    answer = client.get("/api/v1/prices", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["unit"] == net.unit_b.code
    # A wrong token is 401 although op_a's cookie is still sent.
    wrong = client.get("/api/v1/prices", headers={"Authorization": "Bearer wb_not-a-token"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    # Another scheme is no bearer token: the session counts.
    basic = client.get("/api/v1/prices", headers={"Authorization": "Basic b3BfYTp4"})
    assert basic.status_code == 200 and basic.get_json()["unit"] == net.unit_a.code


def test_member_page_by_number_in_any_case_and_other_units_404(client, login, net):
    login("op_a")
    member = net.members_a[0]
    page = client.get(f"/members/{member.member_no.lower()}")
    assert page.status_code == 200 and member.name in page.get_data(as_text=True)
    other = client.get(f"/members/{net.members_b[0].member_no}")
    assert other.status_code == 404 and "Tidak ditemukan." in other.get_data(as_text=True)
