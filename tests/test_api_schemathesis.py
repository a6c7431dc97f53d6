"""Schemathesis against the live API (issue 10 item 13): the app serves its own OpenAPI
document on a local port, on the test's database (SQLite or PostgreSQL) with the network of
``factories.build_network``, and Schemathesis's CLI sends generated requests — valid and
invalid — with the operator's bearer token, running every check (status codes and bodies as
documented, 5xx never, unsupported methods 405 with ``Allow``, ...). Bounded to a few examples
per operation so that one database takes well under a minute."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import IS_POSTGRES

pytestmark = pytest.mark.slow

ST = Path(sys.executable).with_name("st")
if not ST.exists() and not shutil.which("st"):
    # A dev dependency (pyproject): its absence is a broken install, not a reason to skip.
    raise RuntimeError("schemathesis is not installed: pip install -e '.[dev]'")

MAX_EXAMPLES = int(os.environ.get("WASTEBANK_SCHEMATHESIS_EXAMPLES", "15"))


def test_api_conforms_to_its_openapi_document(live_server, tokens, tmp_path):
    command = [str(ST if ST.exists() else shutil.which("st")),
               "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
               "run", f"{live_server}/api/v1/openapi.json",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "20261202",
               "--header", f"Authorization: Bearer {tokens['op_a']}",
               "--workers", "1", "--generation-deterministic", "--no-color",
               "--report-dir", str(tmp_path)]
    # cwd: Schemathesis keeps its example database in ./.schemathesis, not in the repository.
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=dict(os.environ, SCHEMATHESIS_TELEMETRY="false"))
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{'PostgreSQL' if IS_POSTGRES else 'SQLite'}:\n{output[-12000:]}"


def test_the_document_states_the_enforced_rules(client):
    """The rules Schemathesis cannot find by itself, read from the document as served."""
    import re

    from wastebank.services.idempotency import check_key

    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    key = next(p for p in document["paths"]["/api/v1/deposits"]["post"]["parameters"]
               if p["name"] == "Idempotency-Key")
    assert key["schema"]["pattern"] == "^[A-Za-z0-9_.:-]{8,100}$"
    for good in ("3f6c2a1e-9b0d-4c57-8e1a-2d7f5b9c0a44", "a.b:c_d-e"):
        assert re.fullmatch(key["schema"]["pattern"], good) and check_key(good) == good
    assert schemas["VoidRequest"]["properties"]["reason"]["minLength"] == 3
    member = schemas["DepositRequest"]["properties"]["member"]
    assert member["pattern"] == "^[^\\u0000-\\u001F\\u007F-\\u009F]*$" and "Unicode category C" in member["description"]
    beneficiary = schemas["WithdrawalRequest"]["properties"]["beneficiary"]
    assert "required (not blank) for `donation`" in beneficiary["description"]
    assert "31 days" in schemas["DepositRequest"]["properties"]["recorded_at"]["description"]
    statement = document["paths"]["/api/v1/statements/aggregator/{code}/{month}"]
    month = next(p for p in statement.get("parameters", []) + statement["get"].get("parameters", [])
                 if p["name"] == "month")
    assert month["schema"]["pattern"] == "^2[0-9]{3}-(0[1-9]|1[0-2])$"


def test_unsupported_methods_answer_405_with_allow(client):
    api = client.open("/api/v1/prices", method="DELETE")
    assert api.status_code == 405 and set(api.headers["Allow"].split(", ")) == {"HEAD", "GET", "OPTIONS"}
    assert api.get_json()["error"]["code"] == "method_not_allowed"
    page = client.put("/login")
    assert page.status_code == 405 and set(page.headers["Allow"].split(", ")) == {"HEAD", "GET", "POST", "OPTIONS"}
