"""Finding a member the way operators type (issue 8): the vectors shared with the browser's
offline lookup (tests/vectors/member_ref.json, also run by tests/js/members.test.mjs)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from wastebank.extensions import db
from wastebank.models import MemberCard, utcnow
from wastebank.services.errors import DomainError
from wastebank.services.members import (
    card_token_hash,
    create_member,
    find_member,
    live_card,
    member_number_candidates,
    set_member_active,
)
from wastebank.services.org import create_unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "member_ref.json").read_text("utf-8"))
CASES = VECTORS["cases"]


def test_enough_shared_cases():
    assert len(CASES) >= 20
    assert sum("find_member" in c for c in CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[f"{c['unit_code']}:{c['input']!r}" for c in CASES])
def test_candidates(case):
    assert member_number_candidates(case["unit_code"], case["input"]) == case["candidates"]


def test_card_hashes_are_sha256_hex_of_the_tokens():
    for member in VECTORS["members"]:
        assert [card_token_hash(t) for t in member["card_tokens"]] == member["card_hashes"]
        for token in member["card_tokens"]:
            assert card_token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


def _load_members(unit, members):
    for spec in members:
        member = create_member(unit, spec["name"], member_no=spec["member_no"], rt=spec["rt"], rw=spec["rw"])
        card = live_card(member)
        tokens = spec["card_tokens"]
        card.token = tokens[0] if tokens else f"random-{spec['member_no']}-{card.token}"[:64]
        for token in spec["revoked_tokens"]:
            db.session.add(MemberCard(unit_id=unit.id, member_id=member.id, token=token, revoked_at=utcnow()))
        if not spec["active"]:
            set_member_active(member, False)
    db.session.flush()


@pytest.fixture
def vector_units(app):
    """Units RW05 and RW07 holding exactly the vectors' members and cards."""
    rw05 = create_unit("RW05", "Bank Sampah Melati RW 05", rw="05")
    rw07 = create_unit("RW07", "Bank Sampah Mawar RW 07", rw="07")
    db.session.flush()
    _load_members(rw05, VECTORS["members"])
    _load_members(rw07, VECTORS["other_unit"]["members"])
    db.session.commit()
    return rw05, rw07


FIND_CASES = [c for c in CASES if "find_member" in c]


def test_find_member_answers_every_vector(vector_units):
    """One database for all cases (cheaper than one per case); failures are listed together."""
    rw05, _ = vector_units
    wrong = []
    for case in FIND_CASES:
        assert case["unit_code"] == "RW05"
        try:
            got = find_member(rw05.id, case["input"]).member_no
        except DomainError as exc:
            got = exc.code
        if got != case["find_member"]:
            wrong.append((case["input"], case["find_member"], got))
    assert wrong == []


def test_another_units_number_is_found_only_there(vector_units):
    rw05, rw07 = vector_units
    assert find_member(rw07.id, "RW07-0003").name == "Putri Ayu"
    assert find_member(rw07.id, "3").member_no == "RW07-0003"
    assert find_member(rw07.id, "rw07 3").member_no == "RW07-0003"
    with pytest.raises(DomainError) as refused:
        find_member(rw07.id, "12")
    assert refused.value.code == "member_not_found"
    with pytest.raises(DomainError) as refused:
        find_member(rw05.id, "rw07-3")
    assert refused.value.code == "member_not_found"
