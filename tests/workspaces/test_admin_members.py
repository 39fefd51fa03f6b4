"""The members pages: list, role change, queue access, removal, and access being cut at once."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from tests.conftest import make_member
from tests.factories import QueueFactory
from workspaces.models import QUEUE_PERMISSION, Membership, QueueUserObjectPermission, Role
from workspaces.services import LAST_ADMIN, ROLE_CHANGED_SINCE, member_remove, member_set_role
from workspaces.views import MEMBER_REMOVED, QUEUES_UPDATED, ROLE_CHANGED_SELF, ROLE_FORM_OUT_OF_DATE


def url(name, workspace, **kwargs):
    return reverse(name, kwargs={"slug": workspace.slug, **kwargs})


def flashes(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_members_page_lists_name_email_role_queues_and_joined(
    login, workspace, admin, agent, requester, queue
):
    response = login(admin).get(url("admin_members", workspace))

    assert response.status_code == 200
    html = response.content.decode()
    for membership in (admin, agent, requester):
        assert membership.user.email in html
        assert membership.user.display_name in html
    assert '<span class="chip">Support</span>' in html
    assert "All queues" in html  # the admin row
    assert "Own tickets only" in html  # the requester row
    assert agent.created_at.strftime("%Y") in html
    assert response["Cache-Control"] == "private, no-store"


def test_members_page_query_count_does_not_grow_with_members(
    login, workspace, admin, queue, other_queue, django_assert_max_num_queries
):
    client = login(admin)
    for _ in range(3):
        assign_perm(QUEUE_PERMISSION, make_member(workspace, Role.AGENT).user, queue)
    with django_assert_max_num_queries(12) as few:
        client.get(url("admin_members", workspace))
    for _ in range(15):
        member = make_member(workspace, Role.AGENT)
        assign_perm(QUEUE_PERMISSION, member.user, queue)
        assign_perm(QUEUE_PERMISSION, member.user, other_queue)
        make_member(workspace, Role.REQUESTER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("admin_members", workspace))
    assert response.content.decode().count('<tr id="member-') == 34


def test_member_page_shows_role_and_queue_forms(login, workspace, admin, agent, queue, other_queue):
    response = login(admin).get(url("admin_member", workspace, member_id=agent.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{queue.pk}"' in html and f'value="{other_queue.pk}"' in html
    assert response.context["queues_form"].initial["queues"] == {queue.pk}


def test_member_pages_of_another_workspace_answer_404(login, workspace, other_workspace, admin):
    stranger = make_member(other_workspace, Role.AGENT)
    client = login(admin)
    assert client.get(url("admin_member", workspace, member_id=stranger.pk)).status_code == 404
    assert client.get(url("admin_member_remove", workspace, member_id=stranger.pk)).status_code == 404
    for name, data in [
        ("admin_member_role", {"role": Role.REQUESTER, "seen_role": Role.AGENT}),
        ("admin_member_queues", {"queues": []}),
        ("admin_member_remove", {}),
    ]:
        assert client.post(url(name, workspace, member_id=stranger.pk), data).status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == Role.AGENT


def test_role_change_from_the_list(login, workspace, admin, requester):
    response = login(admin).post(
        url("admin_member_role", workspace, member_id=requester.pk),
        {"role": Role.AGENT, "seen_role": Role.REQUESTER, "return_to": "members"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("admin_members", workspace)
    assert Membership.objects.get(pk=requester.pk).role == Role.AGENT
    assert f"{requester.user} is now an agent." in flashes(response)


def test_demoting_the_last_admin_shows_the_reason_and_changes_nothing(login, workspace, admin):
    response = login(admin).post(
        url("admin_member_role", workspace, member_id=admin.pk),
        {"role": Role.AGENT, "seen_role": Role.ADMIN},
        follow=True,
    )
    assert str(LAST_ADMIN) in flashes(response)
    assert Membership.objects.get(pk=admin.pk).role == Role.ADMIN


def test_an_admin_who_demotes_themself_leaves_the_admin_pages(login, workspace, admin):
    make_member(workspace, Role.ADMIN)
    client = login(admin)
    response = client.post(
        url("admin_member_role", workspace, member_id=admin.pk), {"role": Role.AGENT, "seen_role": Role.ADMIN}
    )
    assert response.status_code == 302
    assert response["Location"] == url("workspace_home", workspace)
    follow = client.get(url("workspace_home", workspace), follow=True)
    assert ROLE_CHANGED_SELF.format(role="an agent", workspace=workspace.name) in flashes(follow)
    assert client.get(url("admin_members", workspace)).status_code == 404


def test_an_invalid_role_is_refused(login, workspace, admin, requester):
    response = login(admin).post(
        url("admin_member_role", workspace, member_id=requester.pk),
        {"role": "owner", "seen_role": Role.REQUESTER},
    )
    assert response.status_code == 302
    assert Membership.objects.get(pk=requester.pk).role == Role.REQUESTER


def test_queue_access_is_granted_and_revoked_from_the_member_page(
    login, workspace, admin, agent, queue, other_queue
):
    response = login(admin).post(
        url("admin_member_queues", workspace, member_id=agent.pk), {"queues": [other_queue.pk]}, follow=True
    )
    assert QUEUES_UPDATED.format(name=agent.user) in flashes(response)
    granted = QueueUserObjectPermission.objects.filter(user=agent.user).values_list(
        "content_object_id", flat=True
    )
    assert list(granted) == [other_queue.pk]


def test_a_queue_of_another_workspace_cannot_be_granted(
    login, workspace, other_workspace, admin, agent, queue
):
    foreign = QueueFactory(workspace=other_workspace)
    response = login(admin).post(
        url("admin_member_queues", workspace, member_id=agent.pk),
        {"queues": [queue.pk, foreign.pk]},
        follow=True,
    )
    assert any("Select a valid choice" in text for text in flashes(response))
    assert not QueueUserObjectPermission.objects.filter(content_object=foreign).exists()
    assert QueueUserObjectPermission.objects.filter(user=agent.user).count() == 1


def test_queue_access_for_a_requester_is_refused_with_a_message(login, workspace, admin, requester, queue):
    response = login(admin).post(
        url("admin_member_queues", workspace, member_id=requester.pk), {"queues": [queue.pk]}, follow=True
    )
    assert any("only be given to agents" in text for text in flashes(response))
    assert not QueueUserObjectPermission.objects.exists()


def test_remove_asks_first_then_removes(login, workspace, admin, agent):
    client = login(admin)
    confirm = client.get(url("admin_member_remove", workspace, member_id=agent.pk))
    assert confirm.status_code == 200
    assert b"Remove from workspace" in confirm.content
    assert Membership.objects.filter(pk=agent.pk).exists()  # GET changes nothing

    response = client.post(url("admin_member_remove", workspace, member_id=agent.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("admin_members", workspace)
    assert MEMBER_REMOVED.format(name=agent.user, workspace=workspace.name) in flashes(response)
    assert not Membership.objects.filter(pk=agent.pk).exists()
    assert not QueueUserObjectPermission.objects.filter(user=agent.user).exists()


def test_the_last_admin_cannot_be_removed_from_the_page(login, workspace, admin):
    client = login(admin)
    confirm = client.get(url("admin_member_remove", workspace, member_id=admin.pk))
    assert str(LAST_ADMIN) in confirm.content.decode()
    assert b'class="button danger"' not in confirm.content
    response = client.post(url("admin_member_remove", workspace, member_id=admin.pk), follow=True)
    assert str(LAST_ADMIN) in flashes(response)
    assert Membership.objects.filter(pk=admin.pk).exists()


@pytest.mark.parametrize("change", ["remove", "demote"])
def test_a_signed_in_session_loses_access_on_its_very_next_request(client, workspace, admin, agent, change):
    """workspace_view re-reads the membership on every request: no cache keeps access alive."""
    client.force_login(agent.user)
    assert client.get(url("ticket_list", workspace)).status_code == 200
    if change == "remove":
        member_remove(membership=agent, actor=admin.user)
        assert client.get(url("ticket_list", workspace)).status_code == 404
    else:
        member_set_role(membership=agent, role=Role.ADMIN, actor=admin.user)
        assert client.get(url("admin_members", workspace)).status_code == 200
        member_set_role(membership=agent, role=Role.REQUESTER, actor=admin.user)
        assert client.get(url("admin_members", workspace)).status_code == 404


def test_the_admin_nav_link_is_shown_to_admins_only(login, client, workspace, admin, agent):
    admin_link = f'href="{url("admin_members", workspace)}"'
    assert admin_link in login(admin).get(url("ticket_list", workspace)).content.decode()
    client.logout()
    assert admin_link not in login(agent).get(url("ticket_list", workspace)).content.decode()


def test_an_admin_who_removes_themself_is_sent_to_their_workspaces(login, workspace, admin):
    make_member(workspace, Role.ADMIN)
    client = login(admin)
    response = client.post(url("admin_member_remove", workspace, member_id=admin.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=admin.pk).exists()
    assert client.get(url("ticket_list", workspace)).status_code == 404


def test_a_role_change_decided_on_a_stale_role_is_refused(login, workspace, admin, requester):
    """Issue 17: two admins have the members list open; one makes the requester an agent, the
    other (still seeing "requester") makes them an admin: refused, saying what happened."""
    other_admin = make_member(workspace, Role.ADMIN)
    login(other_admin).post(
        url("admin_member_role", workspace, member_id=requester.pk),
        {"role": Role.AGENT, "seen_role": Role.REQUESTER},
    )
    response = login(admin).post(
        url("admin_member_role", workspace, member_id=requester.pk),
        {"role": Role.ADMIN, "seen_role": Role.REQUESTER, "return_to": "members"},
        follow=True,
    )
    assert ROLE_CHANGED_SINCE.format(name=requester.user, role="agent") in flashes(response)
    assert Membership.objects.get(pk=requester.pk).role == Role.AGENT
    # The page shown again offers the role as it is now, for the next change.
    assert f'name="seen_role" value="{Role.AGENT}"' in response.content.decode()


def test_a_role_post_without_the_role_seen_changes_nothing(login, workspace, admin, requester):
    response = login(admin).post(
        url("admin_member_role", workspace, member_id=requester.pk), {"role": Role.AGENT}, follow=True
    )
    assert str(ROLE_FORM_OUT_OF_DATE) in flashes(response)
    assert Membership.objects.get(pk=requester.pk).role == Role.REQUESTER


def test_the_role_already_chosen_by_someone_else_is_no_conflict(workspace, admin, requester):
    member_set_role(membership=requester, role=Role.AGENT, actor=admin.user)
    member_set_role(membership=requester, role=Role.AGENT, seen_role=Role.REQUESTER, actor=admin.user)
    assert Membership.objects.get(pk=requester.pk).role == Role.AGENT
