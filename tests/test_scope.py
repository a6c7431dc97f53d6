"""services.scope: one record fetched within the caller's unit, or NotFound (404)."""
import pytest

from wastebank.models import Member
from wastebank.services import scope
from wastebank.services.errors import NotFound


def test_member_in_unit_ignores_case_and_stays_in_its_unit(net):
    siti = net.members_a[0]
    assert scope.member_in_unit(net.unit_a.id, siti.member_no.lower()).id == siti.id
    with pytest.raises(NotFound):
        scope.member_in_unit(net.unit_b.id, siti.member_no)
    with pytest.raises(NotFound):
        scope.member_in_unit(None, siti.member_no)
    with pytest.raises(NotFound):
        scope.member_in_unit(net.unit_a.id, "")


def test_in_unit_by_id_and_by_column(net):
    rina = net.members_b[0]
    assert scope.in_unit(Member, net.unit_b.id, rina.id).name == "Rina Wati"
    assert scope.in_unit(Member, net.unit_b.id, member_no=rina.member_no).id == rina.id
    with pytest.raises(NotFound) as refused:
        scope.in_unit(Member, net.unit_a.id, rina.id)
    assert refused.value.status == 404


def test_a_not_found_from_a_page_is_the_404_page(app, net, client, login):
    login("mgr_a")
    # A member number of another unit, through a page that fetches within scope.
    answer = client.get(f"/members/{net.members_b[0].member_no}")
    assert answer.status_code == 404
