import pytest
from django.core.management import CommandError, call_command

from tickets.models import CustomField, Message, MessageKind, Ticket
from workspaces.models import Membership, Queue, User, Workspace


@pytest.mark.django_db
def test_seed_demo_creates_both_workspaces_and_is_idempotent(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", password="demo-password", verbosity=0)
    counts = (User.objects.count(), Ticket.objects.count(), Message.objects.count())
    call_command("seed_demo", password="demo-password", verbosity=0)

    assert (User.objects.count(), Ticket.objects.count(), Message.objects.count()) == counts
    assert set(Workspace.objects.values_list("slug", flat=True)) == {"acme", "globex"}
    for slug in ("acme", "globex"):
        assert Queue.objects.filter(workspace__slug=slug).count() == 2
        assert Ticket.objects.filter(workspace__slug=slug).count() >= 24
        assert Message.objects.filter(workspace__slug=slug, kind=MessageKind.NOTE).exists()
        # Custom fields (issue 13): once each, however often the command runs.
        labels = CustomField.objects.filter(workspace__slug=slug).values_list("label", flat=True)
        assert sorted(labels) == ["Call-back number", "Product"]
        roles = dict(Membership.objects.filter(workspace__slug=slug).values_list("user__email", "role"))
        assert roles == {
            f"admin@{slug}.test": "admin",
            f"agent@{slug}.test": "agent",
            f"agent2@{slug}.test": "agent",
            f"requester@{slug}.test": "requester",
            f"requester2@{slug}.test": "requester",
        }


@pytest.mark.django_db
def test_every_printed_demo_login_works(settings, client, capsys):
    settings.DEBUG = True
    call_command("seed_demo", password="demo-password")
    printed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "@" in line]

    assert len(printed) == 10
    for email in printed:
        response = client.post("/accounts/login/", {"username": email, "password": "demo-password"})
        assert response.status_code == 302, email
        client.post("/accounts/logout/")


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()

    call_command("seed_demo", "--force", verbosity=0)
    assert User.objects.filter(email="admin@acme.test").exists()


@pytest.mark.django_db
def test_demo_people_have_accepted_the_current_policies(settings):
    from privacy.account.policies import policies_pending

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)

    assert policies_pending(User.objects.get(email="agent@acme.test")) == []
