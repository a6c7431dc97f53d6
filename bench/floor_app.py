"""The reference for bench/http_ab.py: a minimal Flask + Flask-SQLAlchemy endpoint doing ONE
conditional UPDATE per request, on the same database and with the same engine settings as the
product (``wastebank.db_setup``: WAL, synchronous FULL, the SQLite writer lock).

``gunicorn 'bench.floor_app:create_app()'`` with ``DATABASE_URL`` set; ``POST /floor`` answers
201 ``{"n": …}``. The table ``bench_floor`` (one row) is created at start if missing.
"""
from __future__ import annotations

import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

import wastebank.db_setup  # noqa: F401  (the product's engine settings, for a fair floor)

db = SQLAlchemy()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    db.init_app(app)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        if conn.execute(text("SELECT count(*) FROM bench_floor")).scalar() == 0:
            conn.execute(text("INSERT INTO bench_floor (id, n) VALUES (1, 0)"))

    @app.post("/floor")
    def floor():
        n = db.session.execute(text("UPDATE bench_floor SET n = n + 1 WHERE id = 1 AND n >= 0 RETURNING n")).scalar()
        db.session.commit()
        return {"n": n}, 201

    return app
