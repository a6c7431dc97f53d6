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
    pytest.skip("schemathesis is not installed", allow_module_level=True)

MAX_EXAMPLES = int(os.environ.get("WASTEBANK_SCHEMATHESIS_EXAMPLES", "15"))


def test_api_conforms_to_its_openapi_document(live_server, tokens, tmp_path):
    command = [str(ST if ST.exists() else shutil.which("st")),
               "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
               "run", f"{live_server}/api/v1/openapi.json",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "20261202",
               "--header", f"Authorization: Bearer {tokens['op_a']}",
               "--workers", "1", "--generation-deterministic", "--no-color",
               "--report-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, SCHEMATHESIS_TELEMETRY="false"))
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{'PostgreSQL' if IS_POSTGRES else 'SQLite'}:\n{output[-12000:]}"
