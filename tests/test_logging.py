"""Logging configured by the factory (wastebank/logs.py): failures and refusals are visible."""
import logging


from wastebank.services.transaction import run_in_transaction


def test_a_refused_money_request_is_logged_with_path_and_status(client, net, tokens, caplog):
    caplog.set_level(logging.INFO, logger="wastebank.request")
    answer = client.post("/api/v1/deposits", json={"member": net.members_a[0].member_no, "lines": []},
                         headers={"Authorization": f"Bearer {tokens['op_a']}",
                                  "Idempotency-Key": "log-test-0001"})
    assert answer.status_code == 422
    records = [r for r in caplog.records if r.name == "wastebank.request"]
    assert records and records[-1].getMessage().startswith("POST /api/v1/deposits -> 422 in ")


def test_an_unhandled_exception_is_logged_with_its_traceback(app, client, caplog):
    @app.route("/_boom")
    def _boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 page, not a raise
    caplog.set_level(logging.INFO, logger="wastebank.request")
    assert client.get("/_boom").status_code == 500
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "wastebank.request"]
    assert errors and "RuntimeError on GET /_boom" in errors[0].getMessage()
    assert errors[0].exc_info[1].args == ("kaboom",)


def test_a_retry_of_a_transient_conflict_is_logged(app, caplog):
    from sqlalchemy.exc import OperationalError

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE x", {}, Exception("database is locked"))
        return "done"

    caplog.set_level(logging.INFO, logger="wastebank.services.transaction")
    assert run_in_transaction(flaky) == "done"
    assert len(calls) == 2
    assert any("attempt 1 of 5, retrying" in r.getMessage() for r in caplog.records)


def test_logging_is_configured_once(app):
    from wastebank import create_app

    handlers = list(logging.getLogger("wastebank").handlers)
    create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert logging.getLogger("wastebank").handlers == handlers
