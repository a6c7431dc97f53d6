"""The API and the rate limiter (wastebank/api/__init__.py ``_unlimited``): no API view carries
a limit of its own, so the limiter skips the API's requests; a default limit a deployment
configures (``RATELIMIT_DEFAULT``) still applies to them, and the login's limit is untouched."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wastebank import create_app
from wastebank.extensions import db, limiter

from .conftest import bearer


def _limited_app(database_url: str, **config):
    db.session.commit()
    db.session.close()  # SQLite: an open transaction of this session would hold the write lock
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                  "PUBLIC_BASE_URL": "https://bank.example", **config})


def test_no_api_view_carries_a_limit_of_its_own(app):
    from flask_limiter.util import get_qualified_name

    api_views = {endpoint: view for endpoint, view in app.view_functions.items() if endpoint.startswith("api.")}
    assert "api.create_deposit" in api_views
    # What Flask-Limiter marks when a view is decorated with limiter.limit / shared_limit.
    marked = [e for e, view in api_views.items()
              if get_qualified_name(view) in limiter._marked_for_limiting or limiter.limit_manager.has_hints(e)]
    assert marked == [], "an API view got a limit: _unlimited() would skip it, see its docstring"
    # The login is limited (so the filter is what lets the API through, not a disabled limiter).
    assert get_qualified_name(app.view_functions["auth.login"]) in limiter._marked_for_limiting


def test_the_api_is_not_counted_without_a_default_limit(net, tokens, database_url):
    app = _limited_app(database_url)
    client = app.test_client()
    statuses = [client.get("/api/v1/prices", headers=bearer(tokens["op_a"])).status_code for _ in range(25)]
    assert statuses == [200] * 25
    with app.app_context():
        db.engine.dispose()


_DEFAULT_LIMIT_SCRIPT = """
import sys
from wastebank import create_app
from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.services.org import create_aggregator, create_unit, create_user
from flask_migrate import upgrade
url, key = sys.argv[1], sys.argv[2]
app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": True, key: "3 per minute",
                             "PUBLIC_BASE_URL": "https://bank.example"})
with app.app_context():
    upgrade()
    unit = create_unit("RW77", "Limit", aggregator=create_aggregator("LIM", "Limit"), rw="77")
    token = create_token(create_user("limit_op", "operator", "limit-password-1", unit=unit))
    db.session.commit()
client = app.test_client()
print([client.get("/api/v1/prices", headers={"Authorization": "Bearer " + token}).status_code for _ in range(4)])
"""


@pytest.mark.parametrize("key", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_a_configured_default_limit_still_applies_to_the_api(tmp_path, key):
    # In a process of its own: Flask-Limiter keeps default and application limits on its
    # (module-level) instance once set, which would limit every later test's app.
    url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
    result = subprocess.run([sys.executable, "-c", _DEFAULT_LIMIT_SCRIPT, url, key],
                            capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[200, 200, 200, 429]"
