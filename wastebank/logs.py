"""Python logging for the app, configured once by the factory (issue 11 item 9).

What is logged, and where it comes from:

- ``wastebank.request``: every request answered 5xx (WARNING, with method, path, status and
  duration in ms) and every unhandled exception (ERROR, with traceback, from Flask's
  ``got_request_exception`` signal); money operations the server refused (409/422 on
  ``POST /api/v1/*`` and the counter's save forms) at INFO, so an operator's complaint
  ("the tablet said ditolak") can be found by time and path. Bodies are never logged: they
  hold member names and phone numbers.
- ``wastebank.services.transaction``: retries of transient conflicts (INFO) and database
  refusals (WARNING).
- ``wastebank`` (the app logger): start-up warnings, e.g. a loopback ``PUBLIC_BASE_URL``.

Output goes to standard error (what gunicorn, systemd and docker collect), one line per record,
timestamps in UTC. ``WASTEBANK_LOG_LEVEL`` (default INFO; WARNING under testing) sets the level.
A host application that configured logging already (handlers on the root logger) is left alone.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, g, got_request_exception, request

LOG_FORMAT = "%(asctime)sZ %(levelname)s %(name)s: %(message)s"
_MONEY_REFUSALS = (409, 422)


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime


def configure_logging(app: Flask) -> None:
    """Give the ``wastebank`` loggers a stderr handler at ``LOG_LEVEL`` and hook request logging
    into ``app``. Idempotent: a second app in the same process (tests) adds no second handler."""
    level = app.config.get("LOG_LEVEL") or ("WARNING" if app.testing else "INFO")
    root = logging.getLogger("wastebank")
    root.setLevel(level)
    if not root.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_UTCFormatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S"))
        root.addHandler(handler)
    _hook_requests(app)


def _hook_requests(app: Flask) -> None:
    log = logging.getLogger("wastebank.request")

    @app.before_request
    def _start_clock():
        g._log_started = time.perf_counter()

    @app.after_request
    def _log_outcome(response):
        status = response.status_code
        if status >= 500 or (status in _MONEY_REFUSALS and request.method == "POST"):
            started = g.get("_log_started")
            elapsed_ms = round((time.perf_counter() - started) * 1000) if started else -1
            level = logging.WARNING if status >= 500 else logging.INFO
            log.log(level, "%s %s -> %s in %d ms", request.method, request.path, status, elapsed_ms)
        return response

    def _log_exception(sender, exception, **extra):
        log.error("unhandled %s on %s %s", type(exception).__name__, request.method, request.path,
                  exc_info=exception)

    got_request_exception.connect(_log_exception, app, weak=False)
