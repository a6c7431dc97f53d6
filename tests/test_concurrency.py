"""C09 and C06 against a running server: real concurrent HTTP clients, SQLite and PostgreSQL."""
import threading
import uuid

import pytest
import requests
from sqlalchemy import func, select

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import Deposit, Member, User
from wastebank.services.ledger import member_savings_account, verify_ledger

pytestmark = pytest.mark.slow


@pytest.fixture
def operator_token(net):
    token = create_token(db.session.get(User, net.users["op_a"].id))
    db.session.commit()
    return token


def test_c09_four_clients_twenty_five_deposits_each(net, operator_token, live_server):
    """4 clients × 25 deposits of Rp 1.000 (0,5 kg CARDBOARD at Rp 2.000/kg) at once: 100
    deposits, no error, each of the 4 members exactly Rp 25.000 more."""
    from wastebank.services.members import create_member

    extra = create_member(net.unit_a, "Wawan Setiawan")
    db.session.commit()
    numbers = [m.member_no for m in net.members_a] + [extra.member_no]
    member_ids = [m.id for m in net.members_a] + [extra.id]
    db.session.close()
    barrier = threading.Barrier(4, timeout=60)
    failures: list[str] = []
    receipts: list[str] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {operator_token}"}
        barrier.wait()
        for j in range(25):
            body = {"member": numbers[(c + j) % 4], "lines": [{"category": "CARDBOARD", "quantity": "0,5"}]}
            response = session.post(f"{live_server}/api/v1/deposits", json=body, timeout=60,
                                    headers={**headers, "Idempotency-Key": f"c09-{c}-{j}-{uuid.uuid4().hex[:8]}"})
            with lock:
                if response.status_code != 201:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                else:
                    receipts.append(response.json()["receipt_no"])

    threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert failures == []
    assert len(receipts) == len(set(receipts)) == 100
    assert sorted(int(r.rsplit("-", 1)[1]) for r in receipts) == list(range(1, 101))
    balances = [member_savings_account(db.session.get(Member, m)).balance for m in member_ids]
    assert balances == [25_000, 25_000, 25_000, 25_000]
    assert db.session.scalar(select(func.count(Deposit.id))) == 100
    assert verify_ledger().ok


def test_c06_lost_response_retry_gets_the_same_receipt(net, operator_token, live_server):
    """The server commits, the answer is lost (the client times out), the tablet retries with
    the same key: one deposit, the same receipt number."""
    member_no = net.members_a[0].member_no
    member_id = net.members_a[0].id
    db.session.close()
    headers = {"Authorization": f"Bearer {operator_token}", "Idempotency-Key": "lost-response-0001"}
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}]}
    first = requests.post(f"{live_server}/api/v1/deposits", json=body, headers=headers, timeout=30)
    retries = [requests.post(f"{live_server}/api/v1/deposits", json=body, headers=headers, timeout=30)
               for _ in range(3)]
    assert first.status_code == 201
    assert {r.json()["receipt_no"] for r in retries} == {first.json()["receipt_no"]}
    assert all(r.json() == first.json() for r in retries)
    assert db.session.scalar(select(func.count(Deposit.id))) == 1
    assert member_savings_account(db.session.get(Member, member_id)).balance == 4875
