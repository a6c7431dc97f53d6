"""Admin commands print what they created and refuse bad input with exit status 1."""
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import User
from wastebank.models.collab import Collaborator, Sponsorship


def test_collaborator_commands_create_sponsor_and_user(net, app):
    run = app.test_cli_runner().invoke
    created = run(args=["collaborator", "create", "CSR Hijau Nusantara"])
    assert created.exit_code == 0 and "collaborator CSR Hijau Nusantara created" in created.output
    sponsored = run(args=["collaborator", "sponsor", "CSR Hijau Nusantara", "rw05", "--from", "2026-01-01"])
    assert sponsored.exit_code == 0 and "sponsors RW05 from 2026-01-01" in sponsored.output
    user = run(args=["user", "create", "csr", "--role", "collaborator", "--collaborator", "CSR Hijau Nusantara",
                     "--password", "rahasia-csr-2026"])
    assert user.exit_code == 0, user.output
    collaborator = db.session.scalars(select(Collaborator).where(Collaborator.name == "CSR Hijau Nusantara")).one()
    assert db.session.scalars(select(User).where(User.username == "csr")).one().collaborator_id == collaborator.id
    row = db.session.scalars(select(Sponsorship)).one()
    assert (row.unit_id, row.start_date.isoformat(), row.end_date) == (net.unit_a.id, "2026-01-01", None)
    assert run(args=["collaborator", "create", "CSR Hijau Nusantara"]).exit_code == 1
    backwards = run(args=["collaborator", "sponsor", "CSR Hijau Nusantara", "RW07", "--from", "2026-02-01",
                          "--to", "2026-01-01"])
    assert backwards.exit_code == 1 and "ends before it starts" in backwards.output
    no_scope = run(args=["user", "create", "csr2", "--role", "collaborator", "--password", "rahasia-csr-2026"])
    assert no_scope.exit_code == 1 and "needs --collaborator" in no_scope.output
