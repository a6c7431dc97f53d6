"""Containers and tare (issue 12 item 5, docs/tare.md): gross − tare = net, the net is priced
and credited; tare ≥ gross, non-kg lines and another unit's containers are refused."""
import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, Container, Deposit, DepositLine, IdempotencyRecord
from wastebank.services.containers import add_container, find_container, update_container
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import Conflict, IdempotencyConflict, ValidationFailed
from wastebank.services.ledger import member_savings_account
from wastebank.services.transaction import run_in_transaction


def _containers(net):
    def make():
        sack = add_container(net.unit_a.id, "Karung", "200", user_id=net.users["mgr_a"].id)
        basket = add_container(net.unit_a.id, "Keranjang", "1,25 kg", user_id=net.users["mgr_a"].id)
        other = add_container(net.unit_b.id, "Karung B", "300", user_id=None)
        return sack.id, basket.id, other.id
    return run_in_transaction(make)


def _record(net, lines, key, member=None):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member or net.members_a[0], lines, operator_id=net.users["op_a"].id, idempotency_key=key))


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_gross_tare_net_stored_and_net_credited(net):
    sack, _basket, _other = _containers(net)
    outcome = _record(net, [LineInput("PET-CLEAN", None, container="karung", gross="1,700"),
                            LineInput("CARDBOARD", "2")], "tare-key-0001")
    assert outcome.body["credited_idr"] == 4875 + 4000
    first, second = outcome.body["lines"]
    assert (first["gross_milli"], first["tare_milli"], first["quantity_milli"], first["container"],
            first["amount_idr"]) == (1700, 200, 1500, "Karung", 4875)
    assert (second["gross_milli"], second["tare_milli"], second["quantity_milli"], second["container"]) == (
        2000, 0, 2000, None)
    rows = list(db.session.scalars(select(DepositLine).order_by(DepositLine.id)))
    assert [(r.gross_milli, r.tare_milli, r.quantity_milli, r.container_id, r.container_name) for r in rows] == [
        (1700, 200, 1500, sack, "Karung"), (2000, 0, 2000, None, None)]
    assert member_savings_account(net.members_a[0]).balance == 8875


def test_container_by_id_and_replay_with_same_key(net):
    sack, _basket, _other = _containers(net)
    first = _record(net, [LineInput("PET-CLEAN", None, container=sack, gross="1.7")], "tare-key-0002")
    again = _record(net, [LineInput("PET-CLEAN", None, container="Karung", gross="1,700 kg")], "tare-key-0002")
    assert again.replayed and again.body == first.body
    assert _count(Deposit) == 1
    # Same key, another container or another gross: another request.
    with pytest.raises(IdempotencyConflict):
        _record(net, [LineInput("PET-CLEAN", None, container="Keranjang", gross="1,7")], "tare-key-0002")
    with pytest.raises(IdempotencyConflict):
        _record(net, [LineInput("PET-CLEAN", "1,7")], "tare-key-0002")
    assert _count(Deposit) == 1 and member_savings_account(net.members_a[0]).balance == 4875


@pytest.mark.parametrize("gross", ["0,2", "0,150", "200 g"])
def test_tare_not_less_than_gross_is_refused_and_nothing_written(net, gross):
    _containers(net)
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", None, container="Karung", gross=gross)], "tare-key-0003")
    code, message = err.value.errors["lines.0.gross"]
    assert code == "tare_not_less"
    assert "Karung" in str(message) and "0,2 kg" in str(message)
    assert (_count(Deposit), _count(DepositLine), _count(IdempotencyRecord)) == (0, 0, 0)
    assert member_savings_account(net.members_a[0]).balance == 0


def test_other_units_or_inactive_container_is_refused(net):
    sack, _basket, other = _containers(net)
    for i, ref in enumerate((other, "Karung B", "Ember")):
        with pytest.raises(ValidationFailed) as err:
            _record(net, [LineInput("PET-CLEAN", None, container=ref, gross="2")], f"tare-key-other-{i}")
        assert err.value.errors["lines.0.container"][0] == "unknown_container"
    container = db.session.get(Container, sack)
    run_in_transaction(lambda: update_container(container, "Karung", "200", False, user_id=None))
    assert find_container(net.unit_a.id, "karung") is None
    with pytest.raises(ValidationFailed):
        _record(net, [LineInput("PET-CLEAN", None, container=sack, gross="2")], "tare-key-0004")
    assert _count(Deposit) == 0


def test_tare_only_for_kg_and_gross_needed(net):
    _containers(net)
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("UCO", None, container="Karung", gross="3")], "tare-key-0005")
    assert err.value.errors["lines.0.container"][0] == "tare_not_kg"
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", "2", container="Karung")], "tare-key-0006")
    assert err.value.errors["lines.0.gross"][0] == "gross_required"
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", "2", container="Karung", gross="2")], "tare-key-0007")
    assert err.value.errors["lines.0.gross"][0] == "quantity_and_gross"
    assert _count(Deposit) == 0


def test_gross_without_container_is_the_quantity(net):
    first = _record(net, [LineInput("PET-CLEAN", None, gross="1,5")], "tare-key-0008")
    again = _record(net, [LineInput("PET-CLEAN", "1.5")], "tare-key-0008")
    assert again.replayed
    line = first.body["lines"][0]
    assert (line["gross_milli"], line["tare_milli"], line["quantity_milli"], line["amount_idr"]) == (1500, 0, 1500, 4875)


def test_container_rules_and_audit(net):
    _containers(net)
    with pytest.raises(Conflict):
        run_in_transaction(lambda: add_container(net.unit_a.id, "karung", "100", user_id=None))
    for bad in ("", "0", "-5", "51 kg", "abc"):
        with pytest.raises(ValidationFailed) as err:
            run_in_transaction(lambda bad=bad: add_container(net.unit_a.id, "Ember", bad, user_id=None))
        assert "tare_g" in err.value.errors
    # the unit B "Karung B" is not a duplicate for unit A's name space
    run_in_transaction(lambda: add_container(net.unit_a.id, "Karung B", "300", user_id=None))
    sack = find_container(net.unit_a.id, "KARUNG")
    assert sack.tare_g == 200 and find_container(net.unit_a.id, "keranjang").tare_g == 1250
    actions = list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "container")))
    assert actions.count("container.create") == 4
